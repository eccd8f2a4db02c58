# tui/: see the files listed below.
