// Compile error: a type error (a std::string where an int is needed).
#include <iostream>
#include <string>

int main() {
    int guess = std::string("500");
    std::cout << guess << std::endl;
}
