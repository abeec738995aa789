/*
 * A stand-in libnvidia-ml.so for testing pmdallm without a GPU.
 *
 * It implements every NVML function the GPU source (crates/agent/src/sources/gpu/) calls, through
 * nvml-wrapper, over a table of three fake GPUs with known values (the same table is written
 * out in tests/gpu.rs). Struct layouts follow nvml-wrapper-sys 0.10's bindings (NVML 12.x).
 *
 * Build:  cc -shared -fPIC -o libnvidia-ml.so.1 nvml_stub.c
 *
 * Faults are driven by a control file, named by $NVML_STUB_CONTROL or, if unset, by the
 * CONTROL_FILE macro given at build time (-DCONTROL_FILE="\"/path\""). It is re-read when it
 * changes (checked at nvmlInit_v2 and nvmlDeviceGetCount_v2, i.e. once per agent sample). Lines:
 *   init CODE            nvmlInit_v2 returns CODE (9 = NVML_ERROR_DRIVER_NOT_LOADED)
 *   unsupported GPU FN   function FN returns NVML_ERROR_NOT_SUPPORTED for GPU (index)
 *   lost GPU             every call on GPU returns NVML_ERROR_GPU_IS_LOST
 *   xid GPU NUMBER       a critical XID event for GPU; xid lines are a log: append new ones,
 *                        each is delivered once (the n-th xid line after n-1 were delivered)
 *   hide_pid PID         process PID is no longer listed (it "exited")
 *   pcie_delay MS        nvmlDeviceGetPcieThroughput sleeps MS ms, as the real one blocks ~20 ms
 *   count_error CODE     nvmlDeviceGetCount_v2 returns CODE (NVML stops answering as a whole)
 *   count N              nvmlDeviceGetCount_v2 reports N GPUs (default 3, at most 16; GPU N
 *                        for N >= 3 repeats the values of GPU N mod 3, for benchmarks)
 *
 * Functions that change a GPU's state (at the end of this file) are there only to be caught:
 * each call is recorded in the control file's name + ".writes" (see state_change()).
 *
 * Energy grows at the GPU's power draw: energy(t) = base + power_mW * (t - t0) in mJ, t0 the
 * time the library was loaded, so the rate of llm.gpu.energy equals the power draw.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

typedef int nvmlReturn_t;
#define NVML_SUCCESS 0
#define NVML_ERROR_UNINITIALIZED 1
#define NVML_ERROR_INVALID_ARGUMENT 2
#define NVML_ERROR_NOT_SUPPORTED 3
#define NVML_ERROR_NOT_FOUND 6
#define NVML_ERROR_INSUFFICIENT_SIZE 7
#define NVML_ERROR_TIMEOUT 10
#define NVML_ERROR_GPU_IS_LOST 15

typedef struct {
    char busIdLegacy[16];
    unsigned domain, bus, device, pciDeviceId, pciSubSystemId;
    char busId[32];
} nvmlPciInfo_t;
typedef struct { unsigned version; unsigned long long total, reserved, free, used; } nvmlMemory_v2_t;
typedef struct { unsigned long long bar1Total, bar1Free, bar1Used; } nvmlBAR1Memory_t;
typedef struct { unsigned gpu, memory; } nvmlUtilization_t;
typedef struct { unsigned long long referenceTime, violationTime; } nvmlViolationTime_t;
typedef union {
    double dVal; int siVal; unsigned uiVal; unsigned long ulVal;
    unsigned long long ullVal; long long sllVal; unsigned short usVal;
} nvmlValue_t;
typedef struct {
    unsigned fieldId, scopeId;
    long long timestamp, latencyUsec;
    int valueType;
    nvmlReturn_t nvmlReturn;
    nvmlValue_t value;
} nvmlFieldValue_t;
typedef struct {
    unsigned pid;
    unsigned long long usedGpuMemory;
    unsigned gpuInstanceId, computeInstanceId;
} nvmlProcessInfo_t;

struct gpu;
typedef struct gpu *nvmlDevice_t;
typedef struct {
    nvmlDevice_t device;
    unsigned long long eventType, eventData;
    unsigned gpuInstanceId, computeInstanceId;
} nvmlEventData_t;

struct proc { unsigned pid; unsigned long long mem; int graphics; unsigned gi; }; /* gi: GPU instance + 1 */
struct mig { int present; const char *name, *uuid; unsigned long long total, reserved, used; };

struct gpu {
    int index;
    const char *name, *uuid, *bus_id, *serial, *vbios;
    unsigned pstate, util_gpu, util_mem, util_enc, util_dec;
    unsigned long long fb_total, fb_reserved, fb_used, bar1_total, bar1_used;
    unsigned clk_sm, clk_mem, clk_gfx, max_sm, max_mem, max_gfx;
    unsigned power, limit, temp, mem_temp, fan; /* fan 0: not supported */
    unsigned long long energy_base, throttle;
    unsigned long long violation[6];
    unsigned pcie_tx, pcie_rx, replay, gen, gen_max, width, width_max;
    unsigned long long pcie_tx_bytes, pcie_rx_bytes; /* 0: field not supported */
    int nvlinks;                                       /* links 0..nvlinks-1; link 1 inactive */
    unsigned long long nvlink_tx, nvlink_rx, nvlink_err[4];
    unsigned long long ecc[2][2];                      /* [corrected,uncorrected][volatile,aggregate] */
    int ecc_supported;
    unsigned remap_cor, remap_unc, remap_pending, remap_failed;
    struct proc procs[3];
    int mig_mode;
    struct mig migs[7];
    int gpm;                                           /* GPU performance monitoring */
    double gpm_value[22];                              /* by NVML_GPM_METRIC_* id */
    int is_mig;                                        /* for MIG device handles */
    struct gpu *parent;
    int mig_slot;
};

/* The table; GPUs 3 and up (see `count`) are copies of gpu (N mod 3) with index N. */
#define MAXGPU 16
static struct gpu gpus[MAXGPU] = {
    {
        .index = 0, .name = "NVIDIA H100 80GB HBM3",
        .uuid = "GPU-11111111-2222-3333-4444-000000000000", .bus_id = "00000000:17:00.0",
        .serial = "1650923000001", .vbios = "96.00.89.00.01",
        .pstate = 0, .util_gpu = 87, .util_mem = 45, .util_enc = 3, .util_dec = 5,
        .fb_total = 85520809984ULL, .fb_reserved = 566231040ULL, .fb_used = 60000000000ULL,
        .bar1_total = 137438953472ULL, .bar1_used = 50331648ULL,
        .clk_sm = 1980, .clk_mem = 2619, .clk_gfx = 1980, .max_sm = 1980, .max_mem = 2619,
        .max_gfx = 1980, .power = 350123, .limit = 700000, .temp = 54, .mem_temp = 62, .fan = 0,
        .energy_base = 123456789000ULL, .throttle = 0x4,
        .violation = {1000000000ULL, 2000000ULL, 0, 0, 5000000000ULL, 0},
        .pcie_tx = 123456, .pcie_rx = 654321, .replay = 3, .gen = 5, .gen_max = 5, .width = 16,
        .width_max = 16, .pcie_tx_bytes = 1000000000000ULL, .pcie_rx_bytes = 2000000000000ULL,
        .nvlinks = 4, .nvlink_tx = 5000000, .nvlink_rx = 6000000, .nvlink_err = {1, 2, 3, 4},
        .ecc = {{2, 17}, {0, 1}}, .ecc_supported = 1,
        .remap_cor = 1, .remap_unc = 0, .remap_pending = 0, .remap_failed = 0,
        .procs = {{4242, 40000000000ULL, 0}, {4343, 1048576ULL, 1}, {0, 0, 0}},
        .gpm = 1,
        .gpm_value = {[1] = 88.5, [2] = 71.5, [3] = 33.25, [4] = 5.5, [5] = 42.75,
                      [10] = 55.25, [11] = 0.5, [12] = 12.25, [13] = 30.0, [20] = 1234.5,
                      [21] = 2345.25},
    },
    {
        .index = 1, .name = "NVIDIA A100-SXM4-40GB",
        .uuid = "GPU-11111111-2222-3333-4444-000000000001", .bus_id = "00000000:65:00.0",
        .serial = "1650923000002", .vbios = "92.00.45.00.03",
        .pstate = 2, .util_gpu = 12, .util_mem = 7, .util_enc = 0, .util_dec = 0,
        .fb_total = 42949672960ULL, .fb_reserved = 268435456ULL, .fb_used = 1073741824ULL,
        .bar1_total = 68719476736ULL, .bar1_used = 4194304ULL,
        .clk_sm = 1095, .clk_mem = 1215, .clk_gfx = 1095, .max_sm = 1410, .max_mem = 1215,
        .max_gfx = 1410, .power = 98765, .limit = 400000, .temp = 41, .mem_temp = 44, .fan = 0,
        .energy_base = 5000000ULL, .throttle = 0x1 | 0x20,
        .violation = {0, 3000000ULL, 0, 0, 7000000000ULL, 0},
        .pcie_tx = 1000, .pcie_rx = 2000, .replay = 0, .gen = 3, .gen_max = 4, .width = 16,
        .width_max = 16, .pcie_tx_bytes = 0, .pcie_rx_bytes = 0,
        .nvlinks = 0,
        .ecc = {{0, 5}, {0, 0}}, .ecc_supported = 1,
        .remap_cor = 0, .remap_unc = 0, .remap_pending = 1, .remap_failed = 0,
        .procs = {{5151, 524288000ULL, 0}, {0, 0, 0}, {0, 0, 0}},
    },
    {
        .index = 2, .name = "NVIDIA A30",
        .uuid = "GPU-11111111-2222-3333-4444-000000000002", .bus_id = "00000000:CA:00.0",
        .serial = "1650923000003", .vbios = "92.00.66.00.01",
        .pstate = 0, .util_gpu = 100, .util_mem = 60, .util_enc = 0, .util_dec = 0,
        .fb_total = 25769803776ULL, .fb_reserved = 134217728ULL, .fb_used = 2147483648ULL,
        .bar1_total = 34359738368ULL, .bar1_used = 2097152ULL,
        .clk_sm = 1440, .clk_mem = 1215, .clk_gfx = 1440, .max_sm = 1440, .max_mem = 1215,
        .max_gfx = 1440, .power = 75000, .limit = 165000, .temp = 66, .mem_temp = 70, .fan = 0,
        .energy_base = 0, .throttle = 0,
        .violation = {0, 0, 0, 0, 0, 0},
        .pcie_tx = 10, .pcie_rx = 20, .replay = 0, .gen = 4, .gen_max = 4, .width = 8,
        .width_max = 16, .pcie_tx_bytes = 0, .pcie_rx_bytes = 0,
        .nvlinks = 0, .ecc_supported = 0,
        .procs = {{6161, 1073741824ULL, 0, 2}, {0, 0, 0, 0}, {0, 0, 0, 0}},
        .mig_mode = 1,
        .migs = {
            {1, "NVIDIA A30 MIG 2g.12gb", "MIG-aaaaaaaa-0000-0000-0000-000000000000",
             12348030976ULL, 0, 1073741824ULL},
            {0},
            {1, "NVIDIA A30 MIG 1g.6gb", "MIG-aaaaaaaa-0000-0000-0000-000000000002",
             6174015488ULL, 0, 536870912ULL},
        },
    },
};

static struct gpu mig_handles[MAXGPU][7];

static void fill_table(void)
{
    for (int i = 3; i < MAXGPU; i++) {
        gpus[i] = gpus[i % 3];
        gpus[i].index = i;
    }
}

/* ---- control file */
#define MAXRULES 64
static struct { char kind[16]; int gpu; char fn[96]; long num; } rules[MAXRULES];
static int nrules;
static int init_code, count_error, pcie_delay_ms, ngpus = 3;
static struct stat control_st;
static int control_loaded;
static struct { int gpu; unsigned long long xid; } events[64];
static int nevents;
static struct timespec t0;

static const char *control_path(void)
{
    const char *p = getenv("NVML_STUB_CONTROL");
#ifdef CONTROL_FILE
    if (p == NULL)
        p = CONTROL_FILE;
#endif
    return p;
}

static void load_control(void)
{
    const char *path = control_path();
    struct stat st;
    FILE *f;
    char line[256];
    if (path == NULL)
        return;
    if (stat(path, &st) < 0) {
        if (control_loaded) { /* file removed: back to defaults */
            nrules = 0; init_code = 0; count_error = 0; pcie_delay_ms = 0; ngpus = 3; control_loaded = 0;
        }
        return;
    }
    if (control_loaded && st.st_ino == control_st.st_ino && st.st_size == control_st.st_size &&
        st.st_mtim.tv_sec == control_st.st_mtim.tv_sec &&
        st.st_mtim.tv_nsec == control_st.st_mtim.tv_nsec)
        return;
    control_st = st;
    control_loaded = 1;
    nrules = 0; init_code = 0; count_error = 0; pcie_delay_ms = 0; ngpus = 3; nevents = 0;
    if ((f = fopen(path, "r")) == NULL)
        return;
    while (fgets(line, sizeof(line), f) != NULL && nrules < MAXRULES) {
        char kind[16] = "", a[96] = "", b[96] = "";
        if (sscanf(line, "%15s %95s %95s", kind, a, b) < 2)
            continue;
        if (strcmp(kind, "init") == 0) {
            init_code = atoi(a);
        } else if (strcmp(kind, "pcie_delay") == 0) {
            pcie_delay_ms = atoi(a);
        } else if (strcmp(kind, "count_error") == 0) {
            count_error = atoi(a);
        } else if (strcmp(kind, "count") == 0) {
            ngpus = atoi(a);
            if (ngpus < 0 || ngpus > MAXGPU)
                ngpus = MAXGPU;
        } else if (strcmp(kind, "xid") == 0) {
            if (nevents < 64) {
                events[nevents].gpu = atoi(a);
                events[nevents].xid = strtoull(b, NULL, 10);
                nevents++;
            }
        } else {
            strcpy(rules[nrules].kind, kind);
            rules[nrules].gpu = atoi(a);
            rules[nrules].num = atol(a);
            strcpy(rules[nrules].fn, b);
            nrules++;
        }
    }
    fclose(f);
}

static int rule(const char *kind, int gpu, const char *fn)
{
    for (int i = 0; i < nrules; i++)
        if (strcmp(rules[i].kind, kind) == 0 && rules[i].gpu == gpu &&
            (fn == NULL || strcmp(rules[i].fn, fn) == 0))
            return 1;
    return 0;
}

static int pid_hidden(unsigned pid)
{
    for (int i = 0; i < nrules; i++)
        if (strcmp(rules[i].kind, "hide_pid") == 0 && rules[i].num == (long)pid)
            return 1;
    return 0;
}

static int initialised;

/* Common prologue of every device call: validity, GPU lost, per-function "not supported". */
static nvmlReturn_t check(struct gpu *g, const char *fn)
{
    if (!initialised)
        return NVML_ERROR_UNINITIALIZED;
    if (g == NULL)
        return NVML_ERROR_INVALID_ARGUMENT;
    int index = g->is_mig ? g->parent->index : g->index;
    if (rule("lost", index, NULL))
        return NVML_ERROR_GPU_IS_LOST;
    if (rule("unsupported", index, fn))
        return NVML_ERROR_NOT_SUPPORTED;
    return NVML_SUCCESS;
}
#define CHECK(g) do { nvmlReturn_t r_ = check((g), __func__); if (r_) return r_; } while (0)
#define FULL_GPU(g) do { if ((g)->is_mig) return NVML_ERROR_NOT_SUPPORTED; } while (0)

static nvmlReturn_t copy_str(char *dst, unsigned len, const char *src)
{
    if (dst == NULL || strlen(src) + 1 > len)
        return NVML_ERROR_INSUFFICIENT_SIZE;
    strcpy(dst, src);
    return NVML_SUCCESS;
}

/* ---- system */
nvmlReturn_t nvmlInit_v2(void)
{
    if (!t0.tv_sec) {
        clock_gettime(CLOCK_MONOTONIC, &t0);
        fill_table();
    }
    load_control();
    if (init_code)
        return init_code;
    initialised = 1;
    return NVML_SUCCESS;
}
nvmlReturn_t nvmlShutdown(void) { initialised = 0; return NVML_SUCCESS; }
nvmlReturn_t nvmlSystemGetDriverVersion(char *v, unsigned len) { return copy_str(v, len, "550.54.15"); }
nvmlReturn_t nvmlSystemGetNVMLVersion(char *v, unsigned len) { return copy_str(v, len, "12.550.54.15"); }
nvmlReturn_t nvmlSystemGetCudaDriverVersion_v2(int *v) { *v = 12040; return NVML_SUCCESS; }
nvmlReturn_t nvmlDeviceGetCount_v2(unsigned *n)
{
    if (!initialised)
        return NVML_ERROR_UNINITIALIZED;
    load_control();
    if (count_error)
        return count_error;
    *n = ngpus;
    return NVML_SUCCESS;
}
nvmlReturn_t nvmlDeviceGetHandleByIndex_v2(unsigned i, nvmlDevice_t *d)
{
    if (!initialised)
        return NVML_ERROR_UNINITIALIZED;
    if (i >= (unsigned)ngpus || i >= MAXGPU)
        return NVML_ERROR_INVALID_ARGUMENT;
    if (rule("lost", i, NULL))
        return NVML_ERROR_GPU_IS_LOST;
    *d = &gpus[i];
    return NVML_SUCCESS;
}

/* ---- identity */
nvmlReturn_t nvmlDeviceGetName(nvmlDevice_t g, char *v, unsigned len)
{
    CHECK(g);
    return copy_str(v, len, g->is_mig ? g->parent->migs[g->mig_slot].name : g->name);
}
nvmlReturn_t nvmlDeviceGetUUID(nvmlDevice_t g, char *v, unsigned len)
{
    CHECK(g);
    return copy_str(v, len, g->is_mig ? g->parent->migs[g->mig_slot].uuid : g->uuid);
}
nvmlReturn_t nvmlDeviceGetSerial(nvmlDevice_t g, char *v, unsigned len) { CHECK(g); FULL_GPU(g); return copy_str(v, len, g->serial); }
nvmlReturn_t nvmlDeviceGetVbiosVersion(nvmlDevice_t g, char *v, unsigned len) { CHECK(g); FULL_GPU(g); return copy_str(v, len, g->vbios); }
nvmlReturn_t nvmlDeviceGetIndex(nvmlDevice_t g, unsigned *v) { CHECK(g); FULL_GPU(g); *v = g->index; return NVML_SUCCESS; }
nvmlReturn_t nvmlDeviceGetPciInfo_v3(nvmlDevice_t g, nvmlPciInfo_t *p)
{
    CHECK(g);
    FULL_GPU(g);
    memset(p, 0, sizeof(*p));
    strncpy(p->busId, g->bus_id, sizeof(p->busId) - 1);
    strncpy(p->busIdLegacy, g->bus_id + 4, sizeof(p->busIdLegacy) - 1);
    p->bus = g->index;
    p->pciDeviceId = 0x233010de;
    return NVML_SUCCESS;
}
nvmlReturn_t nvmlDeviceGetMigMode(nvmlDevice_t g, unsigned *cur, unsigned *pend)
{
    CHECK(g);
    FULL_GPU(g);
    *cur = *pend = g->mig_mode;
    return NVML_SUCCESS;
}
nvmlReturn_t nvmlDeviceGetMaxMigDeviceCount(nvmlDevice_t g, unsigned *n)
{
    CHECK(g);
    FULL_GPU(g);
    *n = g->mig_mode ? 7 : 0;
    return NVML_SUCCESS;
}
nvmlReturn_t nvmlDeviceGetMigDeviceHandleByIndex(nvmlDevice_t g, unsigned i, nvmlDevice_t *m)
{
    CHECK(g);
    FULL_GPU(g);
    if (!g->mig_mode || i >= 7)
        return NVML_ERROR_INVALID_ARGUMENT;
    if (!g->migs[i].present)
        return NVML_ERROR_NOT_FOUND;
    struct gpu *h = &mig_handles[g->index][i];
    h->is_mig = 1;
    h->parent = g;
    h->mig_slot = i;
    *m = h;
    return NVML_SUCCESS;
}
nvmlReturn_t nvmlDeviceGetPerformanceState(nvmlDevice_t g, int *v) { CHECK(g); FULL_GPU(g); *v = g->pstate; return NVML_SUCCESS; }

/* ---- utilisation and memory */
nvmlReturn_t nvmlDeviceGetUtilizationRates(nvmlDevice_t g, nvmlUtilization_t *u)
{
    CHECK(g);
    FULL_GPU(g);
    u->gpu = g->util_gpu;
    u->memory = g->util_mem;
    return NVML_SUCCESS;
}
nvmlReturn_t nvmlDeviceGetEncoderUtilization(nvmlDevice_t g, unsigned *u, unsigned *period)
{
    CHECK(g); FULL_GPU(g); *u = g->util_enc; *period = 167000; return NVML_SUCCESS;
}
nvmlReturn_t nvmlDeviceGetDecoderUtilization(nvmlDevice_t g, unsigned *u, unsigned *period)
{
    CHECK(g); FULL_GPU(g); *u = g->util_dec; *period = 167000; return NVML_SUCCESS;
}
nvmlReturn_t nvmlDeviceGetMemoryInfo_v2(nvmlDevice_t g, nvmlMemory_v2_t *m)
{
    CHECK(g);
    if (m->version != (unsigned)(sizeof(nvmlMemory_v2_t) | (2u << 24)))
        return NVML_ERROR_INVALID_ARGUMENT;
    if (g->is_mig) {
        struct mig *mi = &g->parent->migs[g->mig_slot];
        m->total = mi->total; m->reserved = mi->reserved; m->used = mi->used;
    } else {
        m->total = g->fb_total; m->reserved = g->fb_reserved; m->used = g->fb_used;
    }
    m->free = m->total - m->reserved - m->used;
    return NVML_SUCCESS;
}
nvmlReturn_t nvmlDeviceGetBAR1MemoryInfo(nvmlDevice_t g, nvmlBAR1Memory_t *b)
{
    CHECK(g);
    FULL_GPU(g);
    b->bar1Total = g->bar1_total;
    b->bar1Used = g->bar1_used;
    b->bar1Free = g->bar1_total - g->bar1_used;
    return NVML_SUCCESS;
}

/* ---- clocks, power, temperature */
static nvmlReturn_t clock_of(unsigned a, unsigned b, unsigned c, int type, unsigned *v)
{
    switch (type) { /* NVML_CLOCK_GRAPHICS 0, SM 1, MEM 2 */
    case 0: *v = a; return NVML_SUCCESS;
    case 1: *v = b; return NVML_SUCCESS;
    case 2: *v = c; return NVML_SUCCESS;
    default: return NVML_ERROR_NOT_SUPPORTED;
    }
}
nvmlReturn_t nvmlDeviceGetClockInfo(nvmlDevice_t g, int type, unsigned *v)
{
    CHECK(g); FULL_GPU(g); return clock_of(g->clk_gfx, g->clk_sm, g->clk_mem, type, v);
}
nvmlReturn_t nvmlDeviceGetMaxClockInfo(nvmlDevice_t g, int type, unsigned *v)
{
    CHECK(g); FULL_GPU(g); return clock_of(g->max_gfx, g->max_sm, g->max_mem, type, v);
}
nvmlReturn_t nvmlDeviceGetPowerUsage(nvmlDevice_t g, unsigned *v) { CHECK(g); FULL_GPU(g); *v = g->power; return NVML_SUCCESS; }
nvmlReturn_t nvmlDeviceGetEnforcedPowerLimit(nvmlDevice_t g, unsigned *v) { CHECK(g); FULL_GPU(g); *v = g->limit; return NVML_SUCCESS; }
nvmlReturn_t nvmlDeviceGetTotalEnergyConsumption(nvmlDevice_t g, unsigned long long *v)
{
    struct timespec now;
    CHECK(g);
    FULL_GPU(g);
    clock_gettime(CLOCK_MONOTONIC, &now);
    double secs = (now.tv_sec - t0.tv_sec) + (now.tv_nsec - t0.tv_nsec) / 1e9;
    *v = g->energy_base + (unsigned long long)(g->power * secs); /* mW * s = mJ */
    return NVML_SUCCESS;
}
nvmlReturn_t nvmlDeviceGetTemperature(nvmlDevice_t g, int sensor, unsigned *v)
{
    CHECK(g);
    FULL_GPU(g);
    if (sensor != 0)
        return NVML_ERROR_INVALID_ARGUMENT;
    *v = g->temp;
    return NVML_SUCCESS;
}
nvmlReturn_t nvmlDeviceGetFanSpeed_v2(nvmlDevice_t g, unsigned fan, unsigned *v)
{
    CHECK(g);
    FULL_GPU(g);
    if (g->fan == 0)
        return NVML_ERROR_NOT_SUPPORTED;
    if (fan != 0)
        return NVML_ERROR_INVALID_ARGUMENT;
    *v = g->fan;
    return NVML_SUCCESS;
}

/* ---- throttling */
nvmlReturn_t nvmlDeviceGetCurrentClocksThrottleReasons(nvmlDevice_t g, unsigned long long *v)
{
    CHECK(g); FULL_GPU(g); *v = g->throttle; return NVML_SUCCESS;
}
nvmlReturn_t nvmlDeviceGetViolationStatus(nvmlDevice_t g, int policy, nvmlViolationTime_t *v)
{
    CHECK(g);
    FULL_GPU(g);
    if (policy < 0 || policy > 5)
        return NVML_ERROR_NOT_SUPPORTED;
    v->referenceTime = 1700000000000000ULL;
    v->violationTime = g->violation[policy];
    return NVML_SUCCESS;
}

/* ---- PCIe */
nvmlReturn_t nvmlDeviceGetPcieThroughput(nvmlDevice_t g, int counter, unsigned *v)
{
    CHECK(g);
    FULL_GPU(g);
    if (counter != 0 && counter != 1)
        return NVML_ERROR_INVALID_ARGUMENT;
    if (pcie_delay_ms > 0) {
        struct timespec d = {pcie_delay_ms / 1000, (pcie_delay_ms % 1000) * 1000000L};
        nanosleep(&d, NULL);
    }
    *v = counter == 0 ? g->pcie_tx : g->pcie_rx;
    return NVML_SUCCESS;
}
nvmlReturn_t nvmlDeviceGetPcieReplayCounter(nvmlDevice_t g, unsigned *v) { CHECK(g); FULL_GPU(g); *v = g->replay; return NVML_SUCCESS; }
nvmlReturn_t nvmlDeviceGetCurrPcieLinkGeneration(nvmlDevice_t g, unsigned *v) { CHECK(g); FULL_GPU(g); *v = g->gen; return NVML_SUCCESS; }
nvmlReturn_t nvmlDeviceGetMaxPcieLinkGeneration(nvmlDevice_t g, unsigned *v) { CHECK(g); FULL_GPU(g); *v = g->gen_max; return NVML_SUCCESS; }
nvmlReturn_t nvmlDeviceGetCurrPcieLinkWidth(nvmlDevice_t g, unsigned *v) { CHECK(g); FULL_GPU(g); *v = g->width; return NVML_SUCCESS; }
nvmlReturn_t nvmlDeviceGetMaxPcieLinkWidth(nvmlDevice_t g, unsigned *v) { CHECK(g); FULL_GPU(g); *v = g->width_max; return NVML_SUCCESS; }

/* ---- field values */
nvmlReturn_t nvmlDeviceGetFieldValues(nvmlDevice_t g, int n, nvmlFieldValue_t *fv)
{
    CHECK(g);
    FULL_GPU(g);
    for (int i = 0; i < n; i++) {
        nvmlFieldValue_t *f = &fv[i];
        unsigned long long v = 0;
        int ok = 1;
        f->timestamp = 1700000000000000LL;
        f->latencyUsec = 0;
        f->valueType = 3; /* unsigned long long */
        switch (f->fieldId) {
        case 82: v = g->mem_temp; f->valueType = 1; break;           /* MEMORY_TEMP */
        case 197: v = g->pcie_tx_bytes; ok = v != 0; break;          /* PCIE_COUNT_TX_BYTES */
        case 198: v = g->pcie_rx_bytes; ok = v != 0; break;          /* PCIE_COUNT_RX_BYTES */
        /* NVLINK_THROUGHPUT_DATA_TX/RX: scopeId is the link. Scope 0 (link 0, and what
         * nvml-wrapper sends) answers the GPU's nvlink_tx/rx; link L > 0 answers
         * L * 1000 + 100 (TX) / + 200 (RX); link 3 does not support the fields. */
        case 138:
        case 139:
            ok = g->nvlinks > 0 && f->scopeId < (unsigned)g->nvlinks && f->scopeId != 3;
            if (f->scopeId == 0)
                v = f->fieldId == 138 ? g->nvlink_tx : g->nvlink_rx;
            else
                v = f->scopeId * 1000ULL + (f->fieldId == 138 ? 100 : 200);
            break;
        case 142: v = g->remap_cor; f->valueType = 1; break;
        case 143: v = g->remap_unc; f->valueType = 1; break;
        case 144: v = g->remap_pending; f->valueType = 1; break;
        case 145: v = g->remap_failed; f->valueType = 1; break;
        default: ok = 0;
        }
        if (!ok) {
            f->nvmlReturn = NVML_ERROR_NOT_SUPPORTED;
            continue;
        }
        f->nvmlReturn = NVML_SUCCESS;
        if (f->valueType == 1)
            f->value.uiVal = (unsigned)v;
        else
            f->value.ullVal = v;
    }
    return NVML_SUCCESS;
}

/* ---- NVLink */
nvmlReturn_t nvmlDeviceGetNvLinkState(nvmlDevice_t g, unsigned link, int *active)
{
    CHECK(g);
    FULL_GPU(g);
    if (g->nvlinks == 0)
        return NVML_ERROR_NOT_SUPPORTED;
    if (link >= (unsigned)g->nvlinks)
        return NVML_ERROR_INVALID_ARGUMENT;
    *active = link != 1;
    return NVML_SUCCESS;
}
nvmlReturn_t nvmlDeviceGetNvLinkErrorCounter(nvmlDevice_t g, unsigned link, int counter,
                                             unsigned long long *v)
{
    CHECK(g);
    FULL_GPU(g);
    if (link >= (unsigned)g->nvlinks || counter < 0 || counter > 3)
        return NVML_ERROR_INVALID_ARGUMENT;
    *v = g->nvlink_err[counter] * (link + 1);
    return NVML_SUCCESS;
}

/* ---- reliability */
nvmlReturn_t nvmlDeviceGetTotalEccErrors(nvmlDevice_t g, int type, int counter,
                                         unsigned long long *v)
{
    CHECK(g);
    FULL_GPU(g);
    if (!g->ecc_supported)
        return NVML_ERROR_NOT_SUPPORTED;
    if (type < 0 || type > 1 || counter < 0 || counter > 1)
        return NVML_ERROR_INVALID_ARGUMENT;
    *v = g->ecc[type][counter];
    return NVML_SUCCESS;
}

/* ---- processes */
static nvmlReturn_t processes(struct gpu *g, int graphics, unsigned *count, nvmlProcessInfo_t *p)
{
    unsigned n = 0;
    for (int i = 0; i < 3; i++)
        if (g->procs[i].pid && g->procs[i].graphics == graphics && !pid_hidden(g->procs[i].pid))
            n++;
    if (p == NULL || *count < n) {
        *count = n;
        return n ? NVML_ERROR_INSUFFICIENT_SIZE : NVML_SUCCESS;
    }
    n = 0;
    for (int i = 0; i < 3; i++) {
        struct proc *q = &g->procs[i];
        if (q->pid && q->graphics == graphics && !pid_hidden(q->pid)) {
            p[n].pid = q->pid;
            p[n].usedGpuMemory = q->mem;
            p[n].gpuInstanceId = q->gi ? q->gi - 1 : 0xffffffff;
            p[n].computeInstanceId = q->gi ? 0 : 0xffffffff;
            n++;
        }
    }
    *count = n;
    return NVML_SUCCESS;
}
nvmlReturn_t nvmlDeviceGetComputeRunningProcesses_v3(nvmlDevice_t g, unsigned *c, nvmlProcessInfo_t *p)
{
    CHECK(g); FULL_GPU(g); return processes(g, 0, c, p);
}
nvmlReturn_t nvmlDeviceGetGraphicsRunningProcesses_v3(nvmlDevice_t g, unsigned *c, nvmlProcessInfo_t *p)
{
    CHECK(g); FULL_GPU(g); return processes(g, 1, c, p);
}

/* ---- events (critical XID only) */
struct eventset { unsigned registered; int delivered; };
static struct eventset the_set;
nvmlReturn_t nvmlDeviceGetSupportedEventTypes(nvmlDevice_t g, unsigned long long *types)
{
    CHECK(g);
    FULL_GPU(g);
    *types = 0x8; /* nvmlEventTypeXidCriticalError */
    return NVML_SUCCESS;
}
nvmlReturn_t nvmlEventSetCreate(struct eventset **set)
{
    if (!initialised)
        return NVML_ERROR_UNINITIALIZED;
    memset(&the_set, 0, sizeof(the_set));
    *set = &the_set;
    return NVML_SUCCESS;
}
nvmlReturn_t nvmlDeviceRegisterEvents(nvmlDevice_t g, unsigned long long types, struct eventset *set)
{
    CHECK(g);
    FULL_GPU(g);
    if (types & ~0x8ULL)
        return NVML_ERROR_NOT_SUPPORTED;
    set->registered |= 1u << g->index;
    return NVML_SUCCESS;
}
nvmlReturn_t nvmlEventSetWait_v2(struct eventset *set, nvmlEventData_t *data, unsigned timeout_ms)
{
    (void)timeout_ms;
    while (set->delivered < nevents) {
        int i = set->delivered++;
        int gi = events[i].gpu;
        if (gi < 0 || gi >= MAXGPU || !(set->registered & (1u << gi)))
            continue;
        memset(data, 0, sizeof(*data));
        data->device = &gpus[gi];
        data->eventType = 0x8;
        data->eventData = events[i].xid;
        return NVML_SUCCESS;
    }
    return NVML_ERROR_TIMEOUT;
}
nvmlReturn_t nvmlEventSetFree(struct eventset *set) { (void)set; return NVML_SUCCESS; }

/* ---- GPU performance monitoring (gpu0 only, like a Hopper next to Amperes) */
typedef struct { unsigned version, isSupportedDevice; } nvmlGpmSupport_t;
struct gpmsample { struct gpu *g; int filled; };
typedef struct {
    unsigned metricId;
    nvmlReturn_t nvmlReturn;
    double value;
    struct { char *shortName, *longName, *unit; } metricInfo;
} nvmlGpmMetric_t;
typedef struct {
    unsigned version, numMetrics;
    struct gpmsample *sample1, *sample2;
    nvmlGpmMetric_t metrics[210];
} nvmlGpmMetricsGet_t;
static int gpm_live_samples;

nvmlReturn_t nvmlGpmQueryDeviceSupport(nvmlDevice_t g, nvmlGpmSupport_t *s)
{
    CHECK(g);
    FULL_GPU(g);
    if (s->version != 1)
        return NVML_ERROR_INVALID_ARGUMENT;
    s->isSupportedDevice = g->gpm;
    return NVML_SUCCESS;
}
nvmlReturn_t nvmlGpmSampleAlloc(struct gpmsample **s)
{
    if (!initialised)
        return NVML_ERROR_UNINITIALIZED;
    *s = calloc(1, sizeof(**s));
    gpm_live_samples++;
    return *s ? NVML_SUCCESS : NVML_ERROR_INVALID_ARGUMENT;
}
nvmlReturn_t nvmlGpmSampleFree(struct gpmsample *s)
{
    free(s);
    gpm_live_samples--;
    return NVML_SUCCESS;
}
nvmlReturn_t nvmlGpmSampleGet(nvmlDevice_t g, struct gpmsample *s)
{
    CHECK(g);
    FULL_GPU(g);
    if (!g->gpm)
        return NVML_ERROR_NOT_SUPPORTED;
    s->g = g;
    s->filled = 1;
    return NVML_SUCCESS;
}
nvmlReturn_t nvmlGpmMetricsGet(nvmlGpmMetricsGet_t *m)
{
    static char unit_pct[] = "%", unit_mib[] = "MiB/sec", name[] = "stub";
    if (m->version != 1 || m->numMetrics > 210 || !m->sample1 || !m->sample2 ||
        !m->sample1->filled || !m->sample2->filled || m->sample1->g != m->sample2->g)
        return NVML_ERROR_INVALID_ARGUMENT;
    if (gpm_live_samples > 64) /* the agent leaks samples */
        return NVML_ERROR_INSUFFICIENT_SIZE;
    for (unsigned i = 0; i < m->numMetrics; i++) {
        nvmlGpmMetric_t *x = &m->metrics[i];
        unsigned id = x->metricId;
        x->metricInfo.shortName = name;
        x->metricInfo.longName = name;
        x->metricInfo.unit = id >= 20 ? unit_mib : unit_pct;
        if (id >= 22 || m->sample2->g->gpm_value[id] == 0) {
            x->nvmlReturn = NVML_ERROR_NOT_SUPPORTED;
            continue;
        }
        x->nvmlReturn = NVML_SUCCESS;
        x->value = m->sample2->g->gpm_value[id];
    }
    return NVML_SUCCESS;
}

/*
 * Every NVML function that changes the state of a GPU, of the driver or of the calling
 * process (setters, clears, resets, GPU discovery and removal, MIG instance creation and
 * destruction, drain state, counter freezes). The agent only reads: it must call none of them.
 * Each appends its name to the control file's name + ".writes" and fails with
 * NVML_ERROR_NO_PERMISSION; tests/gpu.rs checks that the file never appears. A stub without a
 * control file, or one that cannot write there, aborts instead, so a call is never missed.
 * (Defined without parameters: the callers' arguments are ignored.)
 */
#define NVML_ERROR_NO_PERMISSION 4

static nvmlReturn_t state_change(const char *fn)
{
    const char *path = control_path();
    char name[4096];
    FILE *f;
    if (path == NULL) {
        fprintf(stderr, "nvml stub: %s changes GPU state\n", fn);
        abort();
    }
    snprintf(name, sizeof(name), "%s.writes", path);
    if ((f = fopen(name, "a")) == NULL) {
        fprintf(stderr, "nvml stub: %s changes GPU state; cannot record it in %s\n", fn, name);
        abort();
    }
    fprintf(f, "%s\n", fn);
    fclose(f);
    return NVML_ERROR_NO_PERMISSION;
}

#define STATE_CHANGE(fn) \
    nvmlReturn_t fn(void); \
    nvmlReturn_t fn(void) { return state_change(#fn); }

STATE_CHANGE(nvmlComputeInstanceDestroy)
STATE_CHANGE(nvmlDeviceClearAccountingPids)
STATE_CHANGE(nvmlDeviceClearCpuAffinity)
STATE_CHANGE(nvmlDeviceClearEccErrorCounts)
STATE_CHANGE(nvmlDeviceClearFieldValues)
STATE_CHANGE(nvmlDeviceCreateGpuInstance)
STATE_CHANGE(nvmlDeviceCreateGpuInstanceWithPlacement)
STATE_CHANGE(nvmlDeviceDiscoverGpus)
STATE_CHANGE(nvmlDeviceFreezeNvLinkUtilizationCounter)
STATE_CHANGE(nvmlDeviceModifyDrainState)
STATE_CHANGE(nvmlDevicePowerSmoothingSetState)
STATE_CHANGE(nvmlDeviceRemoveGpu)
STATE_CHANGE(nvmlDeviceRemoveGpu_v2)
STATE_CHANGE(nvmlDeviceResetApplicationsClocks)
STATE_CHANGE(nvmlDeviceResetGpuLockedClocks)
STATE_CHANGE(nvmlDeviceResetMemoryLockedClocks)
STATE_CHANGE(nvmlDeviceResetNvLinkErrorCounters)
STATE_CHANGE(nvmlDeviceResetNvLinkUtilizationCounter)
STATE_CHANGE(nvmlDeviceSetAPIRestriction)
STATE_CHANGE(nvmlDeviceSetAccountingMode)
STATE_CHANGE(nvmlDeviceSetApplicationsClocks)
STATE_CHANGE(nvmlDeviceSetAutoBoostedClocksEnabled)
STATE_CHANGE(nvmlDeviceSetClockOffsets)
STATE_CHANGE(nvmlDeviceSetComputeMode)
STATE_CHANGE(nvmlDeviceSetConfComputeUnprotectedMemSize)
STATE_CHANGE(nvmlDeviceSetCpuAffinity)
STATE_CHANGE(nvmlDeviceSetDefaultAutoBoostedClocksEnabled)
STATE_CHANGE(nvmlDeviceSetDefaultFanSpeed_v2)
STATE_CHANGE(nvmlDeviceSetDramEncryptionMode)
STATE_CHANGE(nvmlDeviceSetDriverModel)
STATE_CHANGE(nvmlDeviceSetEccMode)
STATE_CHANGE(nvmlDeviceSetFanControlPolicy)
STATE_CHANGE(nvmlDeviceSetFanSpeed_v2)
STATE_CHANGE(nvmlDeviceSetGpcClkVfOffset)
STATE_CHANGE(nvmlDeviceSetGpuLockedClocks)
STATE_CHANGE(nvmlDeviceSetGpuOperationMode)
STATE_CHANGE(nvmlDeviceSetMemClkVfOffset)
STATE_CHANGE(nvmlDeviceSetMemoryLockedClocks)
STATE_CHANGE(nvmlDeviceSetMigMode)
STATE_CHANGE(nvmlDeviceSetNvLinkDeviceLowPowerThreshold)
STATE_CHANGE(nvmlDeviceSetNvLinkUtilizationControl)
STATE_CHANGE(nvmlDeviceSetNvlinkBwMode)
STATE_CHANGE(nvmlDeviceSetPersistenceMode)
STATE_CHANGE(nvmlDeviceSetPowerManagementLimit)
STATE_CHANGE(nvmlDeviceSetPowerManagementLimit_v2)
STATE_CHANGE(nvmlDeviceSetPowerMizerMode_v1)
STATE_CHANGE(nvmlDeviceSetTemperatureThreshold)
STATE_CHANGE(nvmlDeviceSetVgpuCapabilities)
STATE_CHANGE(nvmlDeviceSetVgpuHeterogeneousMode)
STATE_CHANGE(nvmlDeviceSetVgpuSchedulerState)
STATE_CHANGE(nvmlDeviceSetVirtualizationMode)
STATE_CHANGE(nvmlDeviceWorkloadPowerProfileClearRequestedProfiles)
STATE_CHANGE(nvmlDeviceWorkloadPowerProfileSetRequestedProfiles)
STATE_CHANGE(nvmlGpmSetStreamingEnabled)
STATE_CHANGE(nvmlGpuInstanceCreateComputeInstance)
STATE_CHANGE(nvmlGpuInstanceCreateComputeInstanceWithPlacement)
STATE_CHANGE(nvmlGpuInstanceDestroy)
STATE_CHANGE(nvmlGpuInstanceSetVgpuHeterogeneousMode)
STATE_CHANGE(nvmlGpuInstanceSetVgpuSchedulerState)
STATE_CHANGE(nvmlSetVgpuVersion)
STATE_CHANGE(nvmlSystemSetConfComputeGpusReadyState)
STATE_CHANGE(nvmlSystemSetConfComputeKeyRotationThresholdInfo)
STATE_CHANGE(nvmlSystemSetNvlinkBwMode)
STATE_CHANGE(nvmlUnitSetLedState)
STATE_CHANGE(nvmlVgpuInstanceClearAccountingPids)
STATE_CHANGE(nvmlVgpuInstanceSetEncoderCapacity)
