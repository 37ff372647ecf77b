// Run-time error: std::vector::at past the end throws std::out_of_range, which nobody catches.
#include <iostream>
#include <vector>

int main() {
    int n;
    std::cin >> n;
    std::vector<long long> lengths(n);
    std::cout << lengths.at(n) << '\n';
}
