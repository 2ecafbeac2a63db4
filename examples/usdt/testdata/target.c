/* The program the test probes, compiled with gcc and <sys/sdt.h> by the
 * test: example:hello with three arguments, fired only while a tracer has
 * raised its semaphore. */
#define _SDT_HAS_SEMAPHORES 1
#include <sys/sdt.h>

unsigned short example_hello_semaphore __attribute__((section(".probes")));

__attribute__((noinline)) void hello(int answer, long long big, unsigned char small)
{
	if (example_hello_semaphore)
		STAP_PROBE3(example, hello, answer, big, small);
}

int main(void)
{
	hello(42, -1234567890123LL, 200);
	return 0;
}
