// Accepted: std::hypot, printed with 10 decimals.
#include <cmath>
#include <iomanip>
#include <iostream>

int main() {
    std::ios::sync_with_stdio(false);
    int n;
    std::cin >> n;
    std::cout << std::fixed << std::setprecision(10);
    for (int i = 0; i < n; i++) {
        long long a, b;
        std::cin >> a >> b;
        std::cout << std::hypot(double(a), double(b)) << '\n';
    }
}
