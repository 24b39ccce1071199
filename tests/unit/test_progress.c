#include "progress.h"
#include "tap.h"

static void line_is(uint64_t bytes, double secs, const char *want)
{
	char out[128];
	size_t n = progress_format(out, sizeof out, "oci-put", bytes, secs);
	is_str(out, want, "%ju bytes in %.2f s", (uintmax_t)bytes, secs);
	is_int(n, strlen(want), "its length");
}

int main(void)
{
	line_is(0, 0, "oci-put: 0 B sent");
	line_is(1023, 1, "oci-put: 1023 B sent, 1023 B/s");
	line_is(1024, 2, "oci-put: 1.0 KiB sent, 512 B/s");
	line_is(13107200, 2, "oci-put: 12.5 MiB sent, 6.2 MiB/s");
	line_is(3ull << 30, 1.5, "oci-put: 3.0 GiB sent, 2.0 GiB/s");
	line_is(5ull << 40, 0, "oci-put: 5.0 TiB sent");
	line_is(UINT64_MAX, 0, "oci-put: 16777216.0 TiB sent");

	char small[8];
	is_int(progress_format(small, sizeof small, "oci-put", 1, 1), 7, "cut to the buffer");
	is_str(small, "oci-put", "and terminated");
	printf("1..%d\n", tap_count);
	return tap_failed != 0;
}
