"""``python -m harness.cli`` runs the ``rollout`` command."""

from harness.cli.main import main

main()
