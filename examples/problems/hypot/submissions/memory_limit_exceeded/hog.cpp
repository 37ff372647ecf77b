// Memory limit exceeded: allocates and touches 1 GiB, 16 MiB at a time.
#include <iostream>
#include <vector>

int main() {
    const std::size_t chunk = 16u << 20;
    std::vector<std::vector<char>> chunks;
    for (int i = 0; i < 64; i++)                   // 64 x 16 MiB = 1 GiB
        chunks.emplace_back(chunk, char(i + 1));  // filled, so every page is touched
    std::cout << int(chunks.back()[0]) << '\n';
}
