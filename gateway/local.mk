include gateway/store.mk
# gateway/: see the files listed below.
