/*
 * make_seeds.c — writes the seed corpora of the fuzz targets: make_seeds FASHION_MNIST_DIR OUT.
 * OUT/<target>/<seed> for every target of Tests/fuzz/targets. The IDX seeds are the first
 * two test examples of Fashion-MNIST (raw and gzipped); CIFAR-10 and STL-10 seeds are
 * records of the same layout built from those pixels (neither set is installed here); the
 * .safetensors seeds are files the library saves; the JSON seeds are their headers; the
 * options seeds are valid texts for each call. The committed corpora in Tests/fuzz/corpus
 * were made by this program (scripts/fuzz.sh --seeds runs it again).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "l2l.h"
#include "subjects.h"

static const char *out_dir;

static void require(l2l_status status, const char *what) {
    if (status != L2L_OK) {
        fprintf(stderr, "make_seeds: %s: %s\n", what, l2l_last_error());
        exit(1);
    }
}

static const char *path_of(const char *target, const char *name) {
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", out_dir, target);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/%s/%s", out_dir, target, name);
    return path;
}

static void write_seed(const char *target, const char *name, const void *a, size_t a_size, const void *b, size_t b_size) {
    FILE *f = fopen(path_of(target, name), "wb");
    if (f == NULL || fwrite(a, 1, a_size, f) != a_size || (b_size > 0 && fwrite(b, 1, b_size, f) != b_size) || fclose(f) != 0) {
        perror("make_seeds");
        exit(1);
    }
}

/* A seed for a two-file target (fuzz_split's layout: 4-byte length of the first file). */
static void write_pair(const char *target, const char *name, const void *a, size_t a_size, const void *b, size_t b_size) {
    size_t total = 4 + a_size + b_size;
    unsigned char *buffer = malloc(total);
    for (int i = 0; i < 4; i++) buffer[i] = (unsigned char)(a_size >> (8 * i));
    memcpy(buffer + 4, a, a_size);
    memcpy(buffer + 4 + a_size, b, b_size);
    write_seed(target, name, buffer, total, NULL, 0);
    free(buffer);
}

/* The first `n` bytes of a gzipped file. */
static unsigned char *read_gz(const char *directory, const char *file, size_t n) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", directory, file);
    gzFile f = gzopen(path, "rb");
    unsigned char *buffer = malloc(n);
    if (f == NULL || gzread(f, buffer, (unsigned)n) != (int)n) {
        fprintf(stderr, "make_seeds: cannot read %s\n", path);
        exit(1);
    }
    gzclose(f);
    return buffer;
}

static size_t gzip_bytes(const unsigned char *data, size_t size, unsigned char *out, size_t capacity) {
    z_stream z = {0};
    deflateInit2(&z, 9, Z_DEFLATED, 16 + 15, 8, Z_DEFAULT_STRATEGY);
    z.next_in = (unsigned char *)data;
    z.avail_in = (unsigned)size;
    z.next_out = out;
    z.avail_out = (unsigned)capacity;
    deflate(&z, Z_FINISH);
    size_t n = z.total_out;
    deflateEnd(&z);
    return n;
}

enum { EXAMPLES = 2, PIXELS = 28 * 28 };

static void idx_seeds(const char *fashion) {
    unsigned char *images = read_gz(fashion, "t10k-images-idx3-ubyte.gz", 16 + EXAMPLES * PIXELS);
    unsigned char *labels = read_gz(fashion, "t10k-labels-idx1-ubyte.gz", 8 + EXAMPLES);
    /* The count fields (big-endian uint32 at bytes 4-7): two examples now. */
    memcpy(images + 4, (const unsigned char[4]){0, 0, 0, EXAMPLES}, 4);
    memcpy(labels + 4, (const unsigned char[4]){0, 0, 0, EXAMPLES}, 4);
    size_t images_size = 16 + EXAMPLES * PIXELS, labels_size = 8 + EXAMPLES;
    write_pair("idx", "raw", images, images_size, labels, labels_size);
    unsigned char gz_images[4096], gz_labels[256];
    size_t gi = gzip_bytes(images, images_size, gz_images, sizeof gz_images);
    size_t gl = gzip_bytes(labels, labels_size, gz_labels, sizeof gz_labels);
    write_pair("idx", "gzip-images", gz_images, gi, labels, labels_size);
    write_pair("idx", "gzip-labels", images, images_size, gz_labels, gl);

    /* CIFAR-10: label byte + 3 x 32 x 32 channel-major pixels; the 28 x 28 image padded. */
    unsigned char cifar[EXAMPLES * 3073];
    memset(cifar, 0, sizeof cifar);
    for (int e = 0; e < EXAMPLES; e++) {
        cifar[e * 3073] = labels[8 + e];
        for (int c = 0; c < 3; c++)
            for (int r = 0; r < 28; r++) memcpy(cifar + e * 3073 + 1 + c * 1024 + (r + 2) * 32 + 2, images + 16 + e * PIXELS + r * 28, 28);
    }
    write_seed("cifar10", "two-records", cifar, sizeof cifar, NULL, 0);
    /* STL-10: one 3 x 96 x 96 column-major image and its label (1-10). */
    static unsigned char stl[3 * 96 * 96];
    for (int c = 0; c < 3; c++)
        for (int col = 0; col < 96; col++)
            for (int row = 0; row < 96; row++) stl[c * 9216 + col * 96 + row] = images[16 + (row % 28) * 28 + col % 28];
    unsigned char stl_label = (unsigned char)(labels[8] + 1);
    write_pair("stl10", "one-image", stl, sizeof stl, &stl_label, 1);
    free(images);
    free(labels);
}

/* Copies a saved file into a target's corpus, and its JSON header into the json corpus. */
static void take_file(const char *target, const char *name, const char *path) {
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        perror(path);
        exit(1);
    }
    static unsigned char buffer[1 << 20];
    size_t n = fread(buffer, 1, sizeof buffer, f);
    fclose(f);
    remove(path);
    write_seed(target, name, buffer, n, NULL, 0);
    uint64_t header = 0;
    for (int i = 0; i < 8; i++) header |= (uint64_t)buffer[i] << (8 * i);
    if (n >= 8 && header <= n - 8) {
        char json_name[128];
        snprintf(json_name, sizeof json_name, "%s-%s", target, name);
        write_seed("json", json_name, buffer + 8, (size_t)header, NULL, 0);
    }
}

static void safetensors_seeds(void) {
    char tmp[512];
    snprintf(tmp, sizeof tmp, "%s/tmp.safetensors", out_dir);
    const struct fuzz_meta_run *run = fuzz_meta_run();
    struct { const char *kind, *options; } learned[] = {
        {"lstm", NULL}, {"lstm", "preset=mtl2l"}, {"meta_sgd", "lr=0.05"}, {"dmsgd", "hidden=4"}, {"m2sgd", "hidden=4 xi=0.1"}};
    for (size_t i = 0; i < sizeof learned / sizeof learned[0]; i++) {
        l2l_learned *h = NULL;
        require(l2l_learned_create(&h, learned[i].kind, learned[i].options, run->learners[0], 1), learned[i].kind);
        require(l2l_learned_save(h, tmp), "l2l_learned_save");
        char name[64];
        snprintf(name, sizeof name, "%s-%zu", learned[i].kind, i);
        take_file("learned", name, tmp);
        l2l_learned_free(h);
    }
    l2l_mlhf *m = NULL;
    require(l2l_mlhf_create(&m, "cg_iters=2", 1), "l2l_mlhf_create");
    require(l2l_mlhf_save(m, tmp), "l2l_mlhf_save");
    take_file("mlhf", "cg_iters-2", tmp);
    l2l_mlhf_free(m);
    const char *methods[] = {"method=maml; seed=1", "method=meta_sgd; seed=2"};
    for (int i = 0; i < 2; i++) {
        l2l_fewshot *f = NULL;
        require(l2l_fewshot_create(&f, fuzz_fewshot_learner(), methods[i]), "l2l_fewshot_create");
        require(l2l_fewshot_save(f, tmp), "l2l_fewshot_save");
        take_file("fewshot", i == 0 ? "maml" : "meta_sgd", tmp);
        l2l_fewshot_free(f);
    }
    l2l_meta_trainer *t = NULL;
    require(l2l_meta_trainer_create(&t, run->learned, run->learners, run->datasets, 1, run->options), "l2l_meta_trainer_create");
    require(l2l_meta_trainer_save_checkpoint(t, tmp), "checkpoint");
    take_file("checkpoint", "trials-0", tmp);
    require(l2l_meta_trainer_run(t, 1, NULL, NULL), "l2l_meta_trainer_run");
    require(l2l_meta_trainer_save_checkpoint(t, tmp), "checkpoint");
    take_file("checkpoint", "trials-1", tmp);
    l2l_meta_trainer_free(t);
}

/* Valid options texts, each with the last byte that selects its call in targets/options.c. */
static void options_seeds(void) {
    struct { const char *text; unsigned char choice; } seeds[] = {
        {"lr=0.1; momentum=0.5", 1}, {"lr=0.01 beta1=0.9 beta2=0.999 eps=1e-8", 3}, {"lr=1e-3\nalpha=0.9", 4},
        {"shuffle=1; drop_last=0", 9}, {"trials=2 steps=4 unroll=2 batch=2 meta_lr=0.01 seed=3", 10},
        {"method=meta_sgd; seed=8; inner_lr=0.1; shots=5", 11}};
    for (size_t i = 0; i < sizeof seeds / sizeof seeds[0]; i++) {
        char name[32];
        snprintf(name, sizeof name, "valid-%zu", i);
        write_seed("options", name, seeds[i].text, strlen(seeds[i].text), &seeds[i].choice, 1);
    }
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s FASHION_MNIST_DIR OUT\n", argv[0]);
        return 2;
    }
    out_dir = argv[2];
    mkdir(out_dir, 0755);
    idx_seeds(argv[1]);
    safetensors_seeds();
    options_seeds();
    return 0;
}
