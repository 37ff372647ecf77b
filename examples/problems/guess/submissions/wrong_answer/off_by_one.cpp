// Wrong answer: searches [1, 999] (off by one), so it never finds 1000 and gives up.
#include <iostream>
#include <string>

int main() {
    int lo = 1, hi = 999;
    std::string reply;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        std::cout << mid << std::endl;
        if (!(std::cin >> reply) || reply == "correct")
            return 0;
        if (reply == "lower")
            hi = mid - 1;
        else
            lo = mid + 1;
    }
    return 0;  // the range is empty: gives up without finding the number
}
