# tests/unit/i18n.mk: the German translation as a user sees it (po/de.po
# compiled into a temporary directory, the built openshell run under
# de_DE.UTF-8), and po/de.po covering every string the sources mark.
TESTS += tests/unit/t-i18n.sh
EXTRA_DIST += tests/unit/t-i18n.sh
