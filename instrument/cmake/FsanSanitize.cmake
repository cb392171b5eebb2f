# fsan_sanitize(<target>): builds <target>'s C and C++ sources with fibersan's
# instrumentation (the FsanPass plugin, frame pointers, FSAN_SANITIZE=1) and
# links it with libfsan (fsan::fsan). Needs clang 14 as the C/C++ compiler
# (clang-14, or the fsan-clang/fsan-clang++ drivers): the plugin only loads
# into the LLVM it was built against. Expects FSAN_PASS_PLUGIN to be set (the
# package config and the fibersan build do it).
#
# Example:
#   find_package(fibersan REQUIRED)
#   add_executable(app app.cpp)
#   target_link_libraries(app PRIVATE fsan::fsan)
#   fsan_sanitize(app)
function(fsan_sanitize target)
  if(NOT TARGET ${target})
    message(FATAL_ERROR "fsan_sanitize: ${target} is not a target")
  endif()
  if(NOT FSAN_PASS_PLUGIN)
    message(FATAL_ERROR "fsan_sanitize: FSAN_PASS_PLUGIN is not set (use find_package(fibersan))")
  endif()
  foreach(lang IN ITEMS C CXX)
    if(CMAKE_${lang}_COMPILER_LOADED)
      if(NOT CMAKE_${lang}_COMPILER_ID STREQUAL "Clang" OR NOT CMAKE_${lang}_COMPILER_VERSION MATCHES "^14\\.")
        message(FATAL_ERROR "fsan_sanitize(${target}): the ${lang} compiler is ${CMAKE_${lang}_COMPILER_ID} "
                            "${CMAKE_${lang}_COMPILER_VERSION}; the fibersan plugin needs clang 14 "
                            "(CMAKE_${lang}_COMPILER=clang-14 or fsan-clang)")
      endif()
    endif()
  endforeach()
  # -fpass-plugin runs the pass; "-Xclang -load" also registers its -mllvm
  # options (-fsan-stats) before clang parses them.
  set(c_family "$<COMPILE_LANGUAGE:C,CXX>")
  target_compile_options(${target} PRIVATE
    "$<${c_family}:-fno-omit-frame-pointer>"
    "$<${c_family}:-fpass-plugin=${FSAN_PASS_PLUGIN}>"
    "$<${c_family}:SHELL:-Xclang -load -Xclang ${FSAN_PASS_PLUGIN}>")
  target_compile_definitions(${target} PRIVATE FSAN_SANITIZE=1)
  # Link through the properties, so either target_link_libraries signature
  # (plain or keyword) stays usable on the target.
  get_target_property(type ${target} TYPE)
  if(type STREQUAL "STATIC_LIBRARY" OR type STREQUAL "OBJECT_LIBRARY")
    set_property(TARGET ${target} APPEND PROPERTY INTERFACE_LINK_LIBRARIES "$<LINK_ONLY:fsan::fsan>")
  elseif(NOT type STREQUAL "INTERFACE_LIBRARY")
    set_property(TARGET ${target} APPEND PROPERTY LINK_LIBRARIES fsan::fsan)
  endif()
  # Inside the fibersan build, rebuild when the plugin changes.
  if(TARGET FsanPass)
    add_dependencies(${target} FsanPass)
    set_property(TARGET ${target} APPEND PROPERTY LINK_DEPENDS ${FSAN_PASS_PLUGIN})
  endif()
endfunction()
