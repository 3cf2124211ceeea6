from __future__ import annotations

from verbinders.cli import main

main()
