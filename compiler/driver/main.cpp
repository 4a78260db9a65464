#include <cstdio>
int main() { std::puts("nnc: under construction"); return 0; }
