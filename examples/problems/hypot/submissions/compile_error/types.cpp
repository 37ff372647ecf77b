// Compile error: a type error (std::sqrt of a std::string).
#include <cmath>
#include <iostream>
#include <string>

int main() {
    std::string a, b;
    std::cin >> a >> b;
    std::cout << std::sqrt(a * a + b * b) << '\n';
}
