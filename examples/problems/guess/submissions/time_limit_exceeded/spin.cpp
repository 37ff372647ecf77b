// Time limit exceeded: "thinks" in a busy CPU loop forever before its first guess.
#include <iostream>
#include <string>

static volatile bool ready = false;  // never set: the loop below never ends

int main() {
    unsigned long spins = 0;
    while (!ready)
        spins++;

    int lo = 1, hi = 1000;
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
    return static_cast<int>(spins & 1);
}
