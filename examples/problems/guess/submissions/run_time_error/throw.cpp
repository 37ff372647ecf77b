// Run-time error: throws an exception nobody catches before its first guess (std::terminate aborts).
#include <stdexcept>

int main() {
    throw std::runtime_error("not implemented yet");
}
