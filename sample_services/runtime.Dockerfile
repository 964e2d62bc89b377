# The Python packages the sample services import, on the Debian base image.
#
# build_images.py installs them on the host with `pip install --target` (the host
# and Debian bookworm both run Python 3.11) and sends that folder as the build
# context, so that no step here needs a network.
ARG BASE=rollout-sample/python-base:bookworm
FROM ${BASE}
COPY site-packages/ /opt/python/
ENV PYTHONPATH=/opt/python \
    PYTHONUNBUFFERED=1 \
    LANG=C.UTF-8
WORKDIR /app
