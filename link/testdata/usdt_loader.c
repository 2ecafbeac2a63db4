/* usdt_loader: attaches a program of a BPF object to a USDT probe with
 * libbpf's bpf_program__attach_usdt, the oracle of the link tests.
 *
 *   usdt_loader OBJECT PROGRAM BINARY PROVIDER NAME PID COOKIE
 *
 * PID -1 attaches to every process. It prints "attached", then answers
 * every line of input with the value of the object's .bss map in hex, on
 * one line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/libbpf.h>

int main(int argc, char **argv)
{
	struct bpf_object *obj;
	struct bpf_program *prog;
	struct bpf_link *link;
	struct bpf_map *map, *bss = NULL;
	unsigned char *data;
	size_t size, i;
	char line[64];
	int zero = 0;

	if (argc != 8) {
		fprintf(stderr, "usage: %s OBJECT PROGRAM BINARY PROVIDER NAME PID COOKIE\n", argv[0]);
		return 2;
	}
	obj = bpf_object__open_file(argv[1], NULL);
	if (!obj) {
		fprintf(stderr, "open %s failed\n", argv[1]);
		return 1;
	}
	if (bpf_object__load(obj)) {
		fprintf(stderr, "load %s failed\n", argv[1]);
		return 1;
	}
	prog = bpf_object__find_program_by_name(obj, argv[2]);
	if (!prog) {
		fprintf(stderr, "no program %s\n", argv[2]);
		return 1;
	}
	LIBBPF_OPTS(bpf_usdt_opts, opts, .usdt_cookie = strtoull(argv[7], NULL, 0));
	link = bpf_program__attach_usdt(prog, atoi(argv[6]), argv[3], argv[4], argv[5], &opts);
	if (!link) {
		fprintf(stderr, "attach to %s:%s:%s failed\n", argv[3], argv[4], argv[5]);
		return 1;
	}
	bpf_object__for_each_map(map, obj) {
		const char *name = bpf_map__name(map);
		size_t n = strlen(name);

		if (n >= 4 && strcmp(name + n - 4, ".bss") == 0)
			bss = map;
	}
	if (!bss) {
		fprintf(stderr, "no .bss\n");
		return 1;
	}
	size = bpf_map__value_size(bss);
	data = calloc(1, size);
	if (!data)
		return 1;
	printf("attached\n");
	fflush(stdout);
	while (fgets(line, sizeof(line), stdin)) {
		if (bpf_map__lookup_elem(bss, &zero, sizeof(zero), data, size, 0)) {
			fprintf(stderr, "lookup in .bss failed\n");
			return 1;
		}
		for (i = 0; i < size; i++)
			printf("%02x", data[i]);
		printf("\n");
		fflush(stdout);
	}
	bpf_link__destroy(link);
	bpf_object__close(obj);
	return 0;
}
