# Installs the example configuration, never over an edited one: run by `cmake --install` (see
# CMakeLists.txt), with GOVWATCH_CONF_SOURCE (the example, its paths filled in) and
# GOVWATCH_CONFDIR (absolute, without DESTDIR) set. When the installed file differs from the
# example it is the admin's: it stays, and the new example goes beside it as govwatch.yaml.dist.
# (A Debian package does not come here for upgrades: dpkg keeps an edited conffile itself.)
set(_installed "$ENV{DESTDIR}${GOVWATCH_CONFDIR}/govwatch.yaml")
set(_rename govwatch.yaml)
if(EXISTS "${_installed}")
  file(SHA256 "${_installed}" _have)
  file(SHA256 "${GOVWATCH_CONF_SOURCE}" _new)
  if(NOT _have STREQUAL _new)
    set(_rename govwatch.yaml.dist)
  endif()
endif()
# file(INSTALL) adds DESTDIR itself and records the file in install_manifest.txt
file(INSTALL "${GOVWATCH_CONF_SOURCE}" DESTINATION "${GOVWATCH_CONFDIR}" RENAME ${_rename})
if(_rename STREQUAL "govwatch.yaml.dist")
  message(NOTICE "-- Kept your edited ${_installed}; the new example is ${_installed}.dist")
endif()
