# doc/: see the files listed below.
dist_man_MANS += doc/openshell-policy.5
