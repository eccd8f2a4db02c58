# bench/: see the files listed below.
