# install_unit.cmake - run by `make install` (cmake --install): writes trapline.service with the
# paths of the prefix being installed to, and the configuration it names unless one is there
# (an operator's edited file is never overwritten). Set by CMakeLists.txt: TRAPLINE_SRC,
# TRAPLINE_BUILD, TRAPLINE_SYSTEMD_UNIT_DIR (empty: PREFIX/lib/systemd/system),
# TRAPLINE_STATE_DIR, TRAPLINE_SERVICE_USER.
set(prefix "${CMAKE_INSTALL_PREFIX}")
set(TRAPLINE_BINDIR "${prefix}/bin")
# GNUInstallDirs' rule: the prefix /usr keeps its configuration in /etc.
if(prefix STREQUAL "/usr")
  set(etc "/etc")
else()
  set(etc "${prefix}/etc")
endif()
set(TRAPLINE_CONFIG "${etc}/trapline/trapline.conf")
set(unit_dir "${TRAPLINE_SYSTEMD_UNIT_DIR}")
if(unit_dir STREQUAL "")
  set(unit_dir "${prefix}/lib/systemd/system")
endif()
configure_file("${TRAPLINE_SRC}/etc/trapline.service.in"
               "${TRAPLINE_BUILD}/install/trapline.service" @ONLY)
file(INSTALL "${TRAPLINE_BUILD}/install/trapline.service" DESTINATION "${unit_dir}")
if(EXISTS "$ENV{DESTDIR}${TRAPLINE_CONFIG}")
  message(STATUS "Kept: $ENV{DESTDIR}${TRAPLINE_CONFIG}")
else()
  file(INSTALL "${TRAPLINE_BUILD}/trapline.conf" DESTINATION "${etc}/trapline")
endif()
