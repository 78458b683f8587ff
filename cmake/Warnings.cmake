# One place for compiler flags shared by every target.
# aml_target_flags(TARGET) applies warnings, -Werror and the sanitizers.
function(aml_target_flags target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wshadow -Wstrict-prototypes
                                           -Wno-unused-parameter)
  if(AML_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
  if(AML_SANITIZE)
    target_compile_options(${target} PRIVATE -fsanitize=address,undefined
                                             -fno-sanitize-recover=undefined
                                             -fno-omit-frame-pointer)
    target_link_options(${target} PUBLIC -fsanitize=address,undefined)
  endif()
endfunction()
