include sandbox/proxy.mk
# sandbox/: the supervisor (openshell-sandbox) and its parts.
