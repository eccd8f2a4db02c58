# sandbox/: see the files listed below.
