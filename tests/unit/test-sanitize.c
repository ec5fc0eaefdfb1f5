/* SPDX-License-Identifier: MIT */
#include "msg.h"
#include "sanitize.h"
#include "wire.h"

static void title(const char *in, size_t max, const char *want)
{
	char out[512];
	vmapp_sanitize_title(in, strlen(in), max, out, sizeof(out));
	if (strcmp(out, want) != 0) {
		fprintf(stderr, "title \"%s\": got \"%s\", want \"%s\"\n", in, out, want);
		test_failures++;
	}
}

static void app_id(const char *in, const char *want)
{
	char out[512];
	vmapp_sanitize_app_id(in, strlen(in), 256, out, sizeof(out));
	if (strcmp(out, want) != 0) {
		fprintf(stderr, "app_id \"%s\": got \"%s\", want \"%s\"\n", in, out, want);
		test_failures++;
	}
}

int main(void)
{
	title("plain", 256, "plain");
	title("tab\there\nnew\x1b[31mred\x7f", 256, "tabherenew[31mred");
	title("C1 \xc2\x85 \xc2\x9b end", 256, "C1   end");
	/* right-to-left override would let "fdp.exe" read as "exe.pdf" */
	title("a\xe2\x80\xae" "fdp.exe", 256, "afdp.exe");
	title("\xe2\x80\xaa\xe2\x80\xab\xe2\x80\xac\xe2\x80\xad\xe2\x81\xa6\xe2\x81\xa7\xe2\x81\xa8"
	      "\xe2\x81\xa9\xe2\x80\x8e\xe2\x80\x8f\xd8\x9cx", 256, "x");
	title("bad \xc0\xaf utf8 \xff", 256, "bad  utf8 ");
	title("gr\xc3\xbc\xc3\x9f", 256, "gr\xc3\xbc\xc3\x9f");
	/* cut at a character boundary, never inside one */
	title("ab\xe2\x82\xac", 4, "ab");
	title("abcdef", 3, "abc");
	title("", 256, "");

	app_id("org.gnome.Foo", "org.gnome.Foo");
	app_id("../../etc/passwd", ".._.._etc_passwd");
	app_id("a b\xc3\xbc", "a_b_");

	CHECK(vmapp_label_valid("work"));
	CHECK(vmapp_label_valid("a-1"));
	CHECK(!vmapp_label_valid(""));
	CHECK(!vmapp_label_valid("-x"));
	CHECK(!vmapp_label_valid("Work"));
	CHECK(!vmapp_label_valid("a/b"));
	CHECK(!vmapp_label_valid("a b"));
	CHECK(!vmapp_label_valid("123456789012345678901234567890123"));

	CHECK(vmapp_utf8_valid("", 0));
	CHECK(vmapp_utf8_valid("\xf4\x8f\xbf\xbf", 4));
	CHECK(!vmapp_utf8_valid("\xf4\x90\x80\x80", 4));
	CHECK(!vmapp_utf8_valid("\xc1\xbf", 2));
	CHECK(!vmapp_utf8_valid("\xed\xbf\xbf", 3));
	TEST_DONE();
}
