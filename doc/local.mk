# doc/: the manual pages.
dist_man_MANS += doc/openshell.1 doc/openshell-policy.5 \
	doc/openshell-gateway.8 doc/openshell-sandbox.8
EXTRA_DIST += doc/HACKING.md
