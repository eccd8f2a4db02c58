# gateway/: see the files listed below.
