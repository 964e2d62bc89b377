"""Kubernetes manifests at two git revisions -> the bumps of a change.

change = bumps_from_git(system, base="origin/main")
plan = plan_change(system, change.candidates, change.baselines)
"""

from harness.manifests.change import GitChange, ImageChange, bumps_from_git
from harness.manifests.images import ImageRef, parse_image

__all__ = ["GitChange", "ImageChange", "ImageRef", "bumps_from_git", "parse_image"]
