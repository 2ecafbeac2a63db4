/* The program the test probes: compiled with gcc by the test. */
__attribute__((noinline)) int compute(int x)
{
	/* Keep the call: the compiler must not fold it into main. */
	__asm__ volatile("" ::: "memory");
	return x * 2 + 40;
}

int main(void)
{
	return compute(1) == 42 ? 0 : 1;
}
