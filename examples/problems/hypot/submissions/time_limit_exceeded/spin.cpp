// Time limit exceeded: reads the input, then spins in a busy CPU loop forever.
#include <iostream>

static volatile bool done = false;  // never set: the loop below never ends

int main() {
    int n;
    std::cin >> n;
    unsigned long spins = 0;
    while (!done)
        spins++;
    return static_cast<int>(spins & 1);
}
