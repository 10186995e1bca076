/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc_security.h>
#include <grpc/slice.h>
#include <grpc/support/time.h>
#include <pthread.h>
#include <stdarg.h>
#include <sys/eventfd.h>
#include <sys/stat.h>

#include "basics.h"
#include "rpc.h"
#include "util.h"

/* What a batch completes: fn(obj, ok) on the loop. */
typedef struct Tag {
        void (*fn)(void *obj, bool ok);
        void *obj;
} Tag;

typedef struct Done {
        Tag *tag;
        bool ok;
} Done;

struct RpcLoop {
        grpc_completion_queue *cq;
        pthread_t thread;
        bool thread_started;
        pthread_mutex_t lock;
        Done *done;                     /* completions the loop has not taken yet */
        size_t n_done, n_alloc;
        int efd;
        sd_event_source *source;
};

struct RpcServer {
        RpcLoop *loop;
        grpc_server *server;
        char *path;
        ino_t ino;
        rpc_method_t on_call;
        void *userdata;
        unsigned refs;                  /* the server itself until shut down, each call */
        bool stopping;
        void (*stopped)(void *userdata);
        void *stopped_userdata;
};

struct RpcServerCall {
        RpcServer *server;
        grpc_call *call;
        grpc_call_details details;
        grpc_metadata_array metadata;
        grpc_byte_buffer *request;
        int cancelled;
        unsigned refs;
        bool closed;
        /* a stream */
        void (*closed_fn)(void *userdata, RpcServerCall *c);
        void *closed_userdata;
        bool sending;
        grpc_byte_buffer *next;         /* the latest message waiting */
        grpc_byte_buffer *sent;         /* the one on its way */
        grpc_slice status_details;
};

static Tag *tag_new(void (*fn)(void *obj, bool ok), void *obj) {
        Tag *t = malloc(sizeof(*t));

        if (t)
                *t = (Tag) { fn, obj };
        return t;
}

/* ---- the completion queue's thread, and the hand-over to the loop ---- */

static void *cq_thread(void *userdata) {
        RpcLoop *l = userdata;
        uint64_t one = 1;

        for (;;) {
                grpc_event ev = grpc_completion_queue_next(l->cq, gpr_inf_future(GPR_CLOCK_MONOTONIC), NULL);

                if (ev.type == GRPC_QUEUE_SHUTDOWN)
                        break;
                if (ev.type != GRPC_OP_COMPLETE)
                        continue;
                pthread_mutex_lock(&l->lock);
                if (l->n_done == l->n_alloc) {
                        size_t n = MAX(l->n_alloc * 2, (size_t) 16);
                        Done *d = realloc(l->done, n * sizeof(*d));

                        if (!d)
                                abort();        /* a completion must not be lost */
                        l->done = d;
                        l->n_alloc = n;
                }
                l->done[l->n_done++] = (Done) { ev.tag, ev.success };
                pthread_mutex_unlock(&l->lock);
                (void) write(l->efd, &one, sizeof(one));
        }
        return NULL;
}

static int on_completions(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        RpcLoop *l = userdata;
        uint64_t n;
        Done *done;
        size_t count;

        (void) read(fd, &n, sizeof(n));
        pthread_mutex_lock(&l->lock);
        done = TAKE_PTR(l->done);
        count = l->n_done;
        l->n_done = l->n_alloc = 0;
        pthread_mutex_unlock(&l->lock);
        for (size_t i = 0; i < count; i++) {
                Tag *t = done[i].tag;

                t->fn(t->obj, done[i].ok);
                free(t);
        }
        free(done);
        return 0;
}

int rpc_loop_new(sd_event *e, RpcLoop **ret) {
        _cleanup_free_ RpcLoop *l = calloc(1, sizeof(*l));
        int r;

        if (!l)
                return -ENOMEM;
        pthread_mutex_init(&l->lock, NULL);
        l->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (l->efd < 0)
                return -errno;
        r = sd_event_add_io(e, &l->source, l->efd, EPOLLIN, on_completions, l);
        if (r < 0)
                return r;
        grpc_init();
        l->cq = grpc_completion_queue_create_for_next(NULL);
        r = -pthread_create(&l->thread, NULL, cq_thread, l);
        if (r < 0)
                return r;
        l->thread_started = true;
        *ret = TAKE_PTR(l);
        return 0;
}

RpcLoop *rpc_loop_free(RpcLoop *l) {
        if (!l)
                return NULL;
        if (l->cq)
                grpc_completion_queue_shutdown(l->cq);
        if (l->thread_started)
                (void) pthread_join(l->thread, NULL);
        if (l->cq) {
                grpc_completion_queue_destroy(l->cq);
                grpc_shutdown();
        }
        for (size_t i = 0; i < l->n_done; i++)
                free(l->done[i].tag);
        free(l->done);
        sd_event_source_disable_unref(l->source);
        safe_close(l->efd);
        return mfree(l);
}

/* ---- messages ---- */

static grpc_byte_buffer *pack(const ProtobufCMessage *m) {
        size_t n = protobuf_c_message_get_packed_size(m);
        grpc_byte_buffer *b;
        grpc_slice s;

        s = grpc_slice_malloc(n);
        (void) protobuf_c_message_pack(m, GRPC_SLICE_START_PTR(s));
        b = grpc_raw_byte_buffer_create(&s, 1);
        grpc_slice_unref(s);
        return b;
}

/* The bytes of a received message (a slice the caller unrefs). */
static grpc_slice unpack_slice(grpc_byte_buffer *b) {
        grpc_byte_buffer_reader reader;
        grpc_slice s;

        if (!b || !grpc_byte_buffer_reader_init(&reader, b))
                return grpc_empty_slice();
        s = grpc_byte_buffer_reader_readall(&reader);
        grpc_byte_buffer_reader_destroy(&reader);
        return s;
}

static int start_batch(grpc_call *call, const grpc_op *ops, size_t n, void (*fn)(void *obj, bool ok), void *obj) {
        Tag *t = tag_new(fn, obj);

        if (!t)
                return -ENOMEM;
        if (grpc_call_start_batch(call, ops, n, t, NULL) != GRPC_CALL_OK) {
                free(t);
                return -EIO;
        }
        return 0;
}

/* ---- servers ---- */

static void server_unref(RpcServer *s) {
        if (--s->refs > 0)
                return;
        grpc_server_destroy(s->server);
        /* gone with the server: the socket, unless someone else's is there now */
        struct stat st;
        if (stat(s->path, &st) >= 0 && st.st_ino == s->ino)
                (void) unlink(s->path);
        if (s->stopped)
                s->stopped(s->stopped_userdata);
        free(s->path);
        free(s);
}

static RpcServerCall *call_new(RpcServer *s) {
        RpcServerCall *c = calloc(1, sizeof(*c));

        if (!c)
                return NULL;
        c->server = s;
        c->refs = 1;
        s->refs++;
        grpc_call_details_init(&c->details);
        grpc_metadata_array_init(&c->metadata);
        c->status_details = grpc_empty_slice();
        return c;
}

RpcServerCall *rpc_call_ref(RpcServerCall *c) {
        c->refs++;
        return c;
}

void rpc_call_unref(RpcServerCall *c) {
        if (!c || --c->refs > 0)
                return;
        if (c->call)
                grpc_call_unref(c->call);
        grpc_call_details_destroy(&c->details);
        grpc_metadata_array_destroy(&c->metadata);
        if (c->request)
                grpc_byte_buffer_destroy(c->request);
        if (c->next)
                grpc_byte_buffer_destroy(c->next);
        if (c->sent)
                grpc_byte_buffer_destroy(c->sent);
        grpc_slice_unref(c->status_details);
        server_unref(c->server);
        free(c);
}

bool rpc_call_closed(const RpcServerCall *c) {
        return c->closed;
}

static void request_next(RpcServer *s);

static void on_closed(void *obj, bool ok) {
        RpcServerCall *c = obj;

        c->closed = true;
        if (c->closed_fn) {
                c->closed_fn(c->closed_userdata, c);
                c->closed_fn = NULL;
                rpc_call_unref(c);      /* the stream's */
        }
        rpc_call_unref(c);
}

static void on_request(void *obj, bool ok) {
        RpcServerCall *c = obj;
        _cleanup_free_ char *method = NULL;
        grpc_slice s;

        /* the batch's reference, held until the handler has the call */
        if (!ok || !c->request)
                rpc_call_fail(c, GRPC_STATUS_INVALID_ARGUMENT, "no request message");
        else {
                method = grpc_slice_to_c_string(c->details.method);
                s = unpack_slice(c->request);
                c->server->on_call(c->server->userdata, c, method, GRPC_SLICE_START_PTR(s), GRPC_SLICE_LENGTH(s));
                grpc_slice_unref(s);
        }
        rpc_call_unref(c);
}

static void on_new_call(void *obj, bool ok) {
        RpcServerCall *c = obj;
        RpcServer *s = c->server;
        grpc_op ops[2] = {};
        grpc_op close_op = {};

        if (!ok) {
                /* the server is shutting down */
                rpc_call_unref(c);
                return;
        }
        request_next(s);
        ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
        ops[1].op = GRPC_OP_RECV_MESSAGE;
        ops[1].data.recv_message.recv_message = &c->request;
        close_op.op = GRPC_OP_RECV_CLOSE_ON_SERVER;
        close_op.data.recv_close_on_server.cancelled = &c->cancelled;
        c->refs += 2;
        if (start_batch(c->call, &close_op, 1, on_closed, c) < 0) {
                c->refs -= 2;
                rpc_call_unref(c);
                return;
        }
        if (start_batch(c->call, ops, 2, on_request, c) < 0) {
                c->refs--;
                rpc_call_unref(c);
        }
}

static void request_next(RpcServer *s) {
        RpcServerCall *c;
        Tag *t;

        if (s->stopping)
                return;
        c = call_new(s);
        t = c ? tag_new(on_new_call, c) : NULL;
        if (!t || grpc_server_request_call(s->server, &c->call, &c->details, &c->metadata, s->loop->cq, s->loop->cq,
                                           t) != GRPC_CALL_OK) {
                free(t);
                rpc_call_unref(c);
                /* no more calls will be taken: the next restart of the server fixes it */
                fprintf(stderr, "Cannot wait for the next call on %s\n", s->path);
        }
}

int rpc_server_new(RpcLoop *l, const char *path, rpc_method_t on_call, void *userdata, RpcServer **ret) {
        _cleanup_free_ char *addr = strdup_printf("unix:%s", path);
        grpc_server_credentials *creds;
        RpcServer *s;
        struct stat st;
        int port;

        if (!addr)
                return -ENOMEM;
        s = calloc(1, sizeof(*s));
        if (!s || !(s->path = strdup(path))) {
                free(s);
                return -ENOMEM;
        }
        *s = (RpcServer) { .loop = l, .path = s->path, .on_call = on_call, .userdata = userdata, .refs = 1 };
        (void) unlink(path);
        s->server = grpc_server_create(NULL, NULL);
        grpc_server_register_completion_queue(s->server, l->cq, NULL);
        creds = grpc_insecure_server_credentials_create();
        port = grpc_server_add_http2_port(s->server, addr, creds);
        grpc_server_credentials_release(creds);
        if (port <= 0) {
                grpc_server_destroy(s->server);
                free(s->path);
                free(s);
                return -EADDRNOTAVAIL;
        }
        grpc_server_start(s->server);
        if (stat(path, &st) >= 0)
                s->ino = st.st_ino;
        request_next(s);
        *ret = s;
        return 0;
}

static void on_server_shut_down(void *obj, bool ok) {
        server_unref(obj);
}

void rpc_server_stop(RpcServer *s, void (*done)(void *userdata), void *userdata) {
        Tag *t = tag_new(on_server_shut_down, s);

        s->stopping = true;
        s->stopped = done;
        s->stopped_userdata = userdata;
        if (!t)
                abort();
        grpc_server_shutdown_and_notify(s->server, s->loop->cq, t);
        grpc_server_cancel_all_calls(s->server);
}

/* ---- answers ---- */

static void on_status_sent(void *obj, bool ok) {
        rpc_call_unref(obj);
}

static void finish(RpcServerCall *c, grpc_status_code code, const char *details, grpc_byte_buffer *msg) {
        grpc_op ops[2] = {};
        size_t n = 0;

        grpc_slice_unref(c->status_details);
        c->status_details = grpc_slice_from_copied_string(details ?: "");
        if (msg) {
                ops[n].op = GRPC_OP_SEND_MESSAGE;
                ops[n++].data.send_message.send_message = msg;
        }
        ops[n].op = GRPC_OP_SEND_STATUS_FROM_SERVER;
        ops[n].data.send_status_from_server.status = code;
        ops[n++].data.send_status_from_server.status_details = &c->status_details;
        /* the handler's reference goes with the batch */
        if (start_batch(c->call, ops, n, on_status_sent, c) < 0)
                rpc_call_unref(c);
        if (msg)
                grpc_byte_buffer_destroy(msg);
}

void rpc_call_reply(RpcServerCall *c, const ProtobufCMessage *m) {
        finish(c, GRPC_STATUS_OK, NULL, pack(m));
}

void rpc_call_fail(RpcServerCall *c, grpc_status_code code, const char *fmt, ...) {
        _cleanup_free_ char *details = NULL;
        va_list ap;

        va_start(ap, fmt);
        if (vasprintf(&details, fmt, ap) < 0)
                details = NULL;
        va_end(ap);
        finish(c, code, details, NULL);
}

void rpc_call_stream(RpcServerCall *c, void (*closed)(void *userdata, RpcServerCall *c), void *userdata) {
        /* the handler's reference becomes the stream's, dropped when it closes */
        c->closed_fn = closed;
        c->closed_userdata = userdata;
}

static void send_now(RpcServerCall *c);

static void on_stream_sent(void *obj, bool ok) {
        RpcServerCall *c = obj;

        c->sending = false;
        if (c->sent) {
                grpc_byte_buffer_destroy(c->sent);
                c->sent = NULL;
        }
        if (ok && !c->closed && c->next)
                send_now(c);
        rpc_call_unref(c);
}

static void send_now(RpcServerCall *c) {
        grpc_op op = {};

        c->sent = TAKE_PTR(c->next);
        op.op = GRPC_OP_SEND_MESSAGE;
        op.data.send_message.send_message = c->sent;
        c->refs++;
        c->sending = true;
        if (start_batch(c->call, &op, 1, on_stream_sent, c) < 0) {
                c->sending = false;
                c->refs--;
        }
}

int rpc_call_send(RpcServerCall *c, const ProtobufCMessage *m) {
        if (c->closed)
                return -ECONNRESET;
        if (c->next)
                grpc_byte_buffer_destroy(c->next);
        c->next = pack(m);
        if (!c->sending)
                send_now(c);
        return 0;
}

/* ---- client calls ---- */

typedef struct ClientCall {
        grpc_channel *channel;
        grpc_call *call;
        grpc_metadata_array initial, trailing;
        grpc_byte_buffer *request, *response;
        grpc_status_code status;
        grpc_slice details;
        rpc_reply_t done;
        void *userdata;
} ClientCall;

static void client_call_free(ClientCall *k) {
        if (k->call)
                grpc_call_unref(k->call);
        if (k->channel)
                grpc_channel_destroy(k->channel);
        grpc_metadata_array_destroy(&k->initial);
        grpc_metadata_array_destroy(&k->trailing);
        if (k->request)
                grpc_byte_buffer_destroy(k->request);
        if (k->response)
                grpc_byte_buffer_destroy(k->response);
        grpc_slice_unref(k->details);
        free(k);
}

static void on_client_done(void *obj, bool ok) {
        ClientCall *k = obj;
        _cleanup_free_ char *details = grpc_slice_to_c_string(k->details);
        grpc_slice s = unpack_slice(k->response);

        k->done(k->userdata, ok ? k->status : GRPC_STATUS_UNKNOWN, details, GRPC_SLICE_START_PTR(s),
                GRPC_SLICE_LENGTH(s));
        grpc_slice_unref(s);
        client_call_free(k);
}

static void client_ops(ClientCall *k, grpc_op ops[static 6]) {
        ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
        ops[1].op = GRPC_OP_SEND_MESSAGE;
        ops[1].data.send_message.send_message = k->request;
        ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
        ops[3].op = GRPC_OP_RECV_INITIAL_METADATA;
        ops[3].data.recv_initial_metadata.recv_initial_metadata = &k->initial;
        ops[4].op = GRPC_OP_RECV_MESSAGE;
        ops[4].data.recv_message.recv_message = &k->response;
        ops[5].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
        ops[5].data.recv_status_on_client.trailing_metadata = &k->trailing;
        ops[5].data.recv_status_on_client.status = &k->status;
        ops[5].data.recv_status_on_client.status_details = &k->details;
}

/* A channel per call: nothing of the client stays between calls (no
 * reconnection timers, no idle polling). */
int rpc_client_call(RpcLoop *l, const char *path, const char *method, const ProtobufCMessage *request,
                    uint64_t timeout_usec, rpc_reply_t done, void *userdata) {
        _cleanup_free_ char *target = strdup_printf("unix:%s", path);
        grpc_channel_credentials *creds;
        grpc_op ops[6] = {};
        grpc_slice m;
        gpr_timespec deadline;
        ClientCall *k;
        int r;

        k = target ? calloc(1, sizeof(*k)) : NULL;
        if (!k)
                return -ENOMEM;
        *k = (ClientCall) { .done = done, .userdata = userdata, .details = grpc_empty_slice() };
        grpc_metadata_array_init(&k->initial);
        grpc_metadata_array_init(&k->trailing);
        creds = grpc_insecure_credentials_create();
        k->channel = grpc_channel_create(target, creds, NULL);
        grpc_channel_credentials_release(creds);
        deadline = gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC),
                                gpr_time_from_micros((int64_t) timeout_usec, GPR_TIMESPAN));
        m = grpc_slice_from_static_string(method);
        k->call = grpc_channel_create_call(k->channel, NULL, GRPC_PROPAGATE_DEFAULTS, l->cq, m, NULL, deadline, NULL);
        k->request = pack(request);
        client_ops(k, ops);
        r = k->call ? start_batch(k->call, ops, 6, on_client_done, k) : -EIO;
        if (r < 0)
                client_call_free(k);
        return r;
}
