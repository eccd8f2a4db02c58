# doc/: see the files listed below.
