"""``python -m affidavit``."""

from affidavit.cli import main

main(prog_name="affidavit")
