/* The table of calls a return probe waits on (hprobe/retpend.h), alone: matching by
 * task and stack pointer with recursion and several tasks, and every way an entry
 * leaves without a return (exit, timeout, full, replaced, removed), each counted. */
#include <stdlib.h>

#include "hp_test.h"
#include "hprobe/retpend.h"

static size_t why_count[HP_RETPEND_NWHY];

static void on_drop(void *ud, const struct hp_retpend_entry *e, enum hp_retpend_why why)
{
	(void)ud;
	(void)e;
	why_count[why]++;
}

static struct hp_retpend_entry ent(uint64_t task, uint64_t sp, uint64_t ns, uint32_t probe)
{
	return (struct hp_retpend_entry){
		.task = task, .sp = sp, .ret_addr = 0x1000 + sp % 64, .entry_ns = ns, .probe_id = probe
	};
}

static void test_recursion_and_tasks(void)
{
	struct hp_retpend *t = hp_retpend__new(64);
	struct hp_retpend_entry e;
	REQUIRE(t);
	/* task 1 recurses 10 deep (the stack grows down); task 2 runs the same function at once */
	for (int d = 0; d < 10; d++) {
		e = ent(1, 0x8000 - 64 * (uint64_t)d, (uint64_t)d, 7);
		hp_retpend__push(t, &e, on_drop, NULL);
		e = ent(2, 0x8000 - 64 * (uint64_t)d, (uint64_t)d, 7);
		hp_retpend__push(t, &e, on_drop, NULL);
	}
	CHECK_EQ_INT(hp_retpend__count(t), 20);
	CHECK(!hp_retpend__pop(t, 3, 0x8000, &e)); /* another task at the same sp */
	CHECK(!hp_retpend__pop(t, 1, 0x8008, &e)); /* not an entry's sp */
	for (int d = 9; d >= 0; d--) {
		CHECK(hp_retpend__pop(t, 1, 0x8000 - 64 * (uint64_t)d, &e));
		CHECK_EQ_U64(e.entry_ns, (uint64_t)d);
		CHECK_EQ_U64(e.task, 1);
	}
	CHECK_EQ_INT(hp_retpend__count(t), 10);
	CHECK(hp_retpend__waits_at(t, 0x1000));
	CHECK_EQ_INT(hp_retpend__drop_task(t, 2, on_drop, NULL), 10);
	CHECK_EQ_INT(why_count[HP_RETPEND_EXIT], 10);
	CHECK_EQ_INT(hp_retpend__count(t), 0);
	CHECK(!hp_retpend__waits_at(t, 0x1000));
	hp_retpend__free(t);
}

static void test_bounds(void)
{
	struct hp_retpend *t = hp_retpend__new(4);
	struct hp_retpend_entry e;
	REQUIRE(t);
	for (uint64_t i = 0; i < 6; i++) {
		e = ent(i, 0x100, 100 + i, 1);
		hp_retpend__push(t, &e, on_drop, NULL);
	}
	/* full: the two oldest made room */
	CHECK_EQ_INT(hp_retpend__count(t), 4);
	CHECK_EQ_INT(why_count[HP_RETPEND_FULL], 2);
	CHECK(!hp_retpend__pop(t, 0, 0x100, NULL));
	CHECK(!hp_retpend__pop(t, 1, 0x100, NULL));
	/* the same task and sp again: the first call never returned */
	e = ent(5, 0x100, 200, 2);
	hp_retpend__push(t, &e, on_drop, NULL);
	CHECK_EQ_INT(why_count[HP_RETPEND_REPLACED], 1);
	CHECK_EQ_INT(hp_retpend__count(t), 4);
	/* timeout: entries 2..4 entered before 105; 5 (at 200) stays */
	CHECK_EQ_U64(hp_retpend__oldest_ns(t), 102);
	CHECK_EQ_INT(hp_retpend__expire(t, 150, on_drop, NULL), 3);
	CHECK_EQ_U64(hp_retpend__oldest_ns(t), 200);
	CHECK_EQ_INT(why_count[HP_RETPEND_TIMEOUT], 3);
	CHECK(hp_retpend__pop(t, 5, 0x100, &e));
	CHECK_EQ_U64(e.entry_ns, 200);
	CHECK_EQ_U64(hp_retpend__oldest_ns(t), 0); /* none waits */
	/* a removed probe takes its entries along */
	for (uint64_t i = 0; i < 4; i++) {
		e = ent(i, 0x200, 300, (uint32_t)(i % 2));
		hp_retpend__push(t, &e, on_drop, NULL);
	}
	CHECK_EQ_INT(hp_retpend__drop_probe(t, 1, on_drop, NULL), 2);
	CHECK_EQ_INT(why_count[HP_RETPEND_REMOVED], 2);
	CHECK_EQ_INT(hp_retpend__count(t), 2);
	CHECK_EQ_INT(hp_retpend__drop_all(t, HP_RETPEND_EXIT, on_drop, NULL), 2);
	CHECK_EQ_INT(hp_retpend__count(t), 0);
	hp_retpend__free(t);
	CHECK(hp_retpend__new(0) == NULL);
	hp_retpend__free(NULL);
}

/* Many pushes and pops in a shuffled order: the pool and the lists stay consistent. */
static void test_churn(void)
{
	enum { CAP = 256 };
	struct hp_retpend *t = hp_retpend__new(CAP);
	uint64_t live[CAP];
	size_t nlive = 0;
	REQUIRE(t);
	srand(1);
	for (int i = 0; i < 100000; i++) {
		if (nlive < CAP && (nlive == 0 || rand() % 2)) {
			uint64_t sp = 0x10000 + 16 * (uint64_t)i;
			struct hp_retpend_entry e = ent((uint64_t)(i % 7), sp, (uint64_t)i, 1);
			hp_retpend__push(t, &e, NULL, NULL);
			live[nlive++] = sp;
		} else {
			size_t k = (size_t)rand() % nlive;
			uint64_t sp = live[k];
			struct hp_retpend_entry e;
			CHECK(hp_retpend__pop(t, ((sp - 0x10000) / 16) % 7, sp, &e));
			live[k] = live[--nlive];
		}
		if (hp_retpend__count(t) != nlive) {
			CHECK_EQ_INT(hp_retpend__count(t), nlive);
			break;
		}
	}
	hp_retpend__free(t);
}

int main(void)
{
	test_recursion_and_tasks();
	test_bounds();
	test_churn();
	TEST_MAIN_END();
}
