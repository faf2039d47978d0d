/* An ELF fixture with one symbol of each kind test_symtab_elf checks. */
const char hp_fixture_bytes[32] = "HPROBE-FIXTURE-0123456789abcdef";
int hp_fixture_bss[64];
int hp_fixture_data = 42;

__attribute__((noinline)) int hp_fixture_func(int x)
{
	return x * 3 + hp_fixture_data + hp_fixture_bytes[x & 7];
}

__attribute__((noinline, used)) static int hp_fixture_local(int x)
{
	return x + hp_fixture_bss[x & 63];
}

__attribute__((weak, noinline)) int hp_fixture_weak(void)
{
	return 7;
}

int main(void)
{
	return hp_fixture_func(1) + hp_fixture_local(2) + hp_fixture_weak() == 0;
}
