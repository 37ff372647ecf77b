// Wrong answer: an integer square root, so the fraction is lost (right only when a^2 + b^2 is a square).
#include <cmath>
#include <iostream>

int main() {
    int n;
    std::cin >> n;
    for (int i = 0; i < n; i++) {
        long long a, b;
        std::cin >> a >> b;
        long long r = static_cast<long long>(std::sqrt(double(a * a + b * b)));
        std::cout << r << '\n';
    }
}
