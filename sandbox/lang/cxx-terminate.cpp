// Linked into every C++ program (see codyskool/languages.toml); compiled in the image.
//
// An exception nobody catches ends a C++ program through std::terminate, which by default prints
// the exception and calls abort(): the program dies of SIGABRT with no exit status. This handler
// prints the same message and exits with status 1 instead, as an uncaught exception does in Java,
// Python, JavaScript and Ruby. A program may still install its own handler with std::set_terminate.
#include <cstdio>
#include <cstdlib>
#include <cxxabi.h>
#include <exception>
#include <typeinfo>

namespace {

[[noreturn]] void report_and_exit() noexcept {
    static bool entered = false;  // a second call (e.g. a throw from what()) just exits
    if (!entered) {
        entered = true;
        const std::type_info* type = abi::__cxa_current_exception_type();
        if (type == nullptr) {
            std::fputs("terminate called without an active exception\n", stderr);
        } else {
            int status = -1;
            char* demangled = abi::__cxa_demangle(type->name(), nullptr, nullptr, &status);
            const char* name = status == 0 && demangled != nullptr ? demangled : type->name();
            std::fprintf(stderr, "terminate called after throwing an instance of '%s'\n", name);
            std::free(demangled);
            try {
                throw;
            } catch (const std::exception& error) {
                std::fprintf(stderr, "  what():  %s\n", error.what());
            } catch (...) {
            }
        }
    }
    std::fflush(nullptr);
    std::_Exit(1);
}

[[maybe_unused]] const std::terminate_handler installed = std::set_terminate(report_and_exit);

}  // namespace
