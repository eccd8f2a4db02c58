# examples/: see the files listed below.
