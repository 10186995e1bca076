/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <grpc/grpc.h>
#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

/* gRPC over unix sockets with gRPC's C core (libgrpc) and protobuf-c
 * messages. gRPC runs its completion queue on a thread of its own; every
 * completion is handed to the sd-event loop (an eventfd), so that all of
 * the plugin's logic runs on the loop, one event at a time, and nothing
 * wakes up while nothing happens. */

typedef struct RpcLoop RpcLoop;
typedef struct RpcServer RpcServer;
typedef struct RpcServerCall RpcServerCall;

int rpc_loop_new(sd_event *e, RpcLoop **ret);
RpcLoop *rpc_loop_free(RpcLoop *l);

/* A call came in: method ("/package.Service/Method") and its request.
 * The handler answers with rpc_call_reply or rpc_call_fail (now or later),
 * or keeps it as a stream (rpc_call_stream). */
typedef void (*rpc_method_t)(void *userdata, RpcServerCall *c, const char *method, const uint8_t *data, size_t len);

/* A server listening on the unix socket at path (replaced if it exists). */
int rpc_server_new(RpcLoop *l, const char *path, rpc_method_t on_call, void *userdata, RpcServer **ret);
/* Cancel its calls and stop it; done(userdata) once it is gone and its
 * socket removed (the server is freed then). */
void rpc_server_stop(RpcServer *s, void (*done)(void *userdata), void *userdata);

/* Answer with a message (status OK), or fail with a status and a sentence. */
void rpc_call_reply(RpcServerCall *c, const ProtobufCMessage *m);
void rpc_call_fail(RpcServerCall *c, grpc_status_code code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Keep the call as a server stream; closed(userdata, c) when the client
 * goes away or the server stops (no sends after that). */
void rpc_call_stream(RpcServerCall *c, void (*closed)(void *userdata, RpcServerCall *c), void *userdata);
/* Send a message on a stream; while one is on its way, only the latest
 * waiting message is kept. */
int rpc_call_send(RpcServerCall *c, const ProtobufCMessage *m);
/* Whether the client already went away. */
bool rpc_call_closed(const RpcServerCall *c);
/* Hold a call across asynchronous work (each ref is dropped once). */
RpcServerCall *rpc_call_ref(RpcServerCall *c);
void rpc_call_unref(RpcServerCall *c);

/* One unary call to the server at the unix socket path; done gets the
 * status (GRPC_STATUS_OK or not), its details, and the answer's bytes. */
typedef void (*rpc_reply_t)(void *userdata, grpc_status_code status, const char *details, const uint8_t *data,
                            size_t len);
int rpc_client_call(RpcLoop *l, const char *path, const char *method, const ProtobufCMessage *request,
                    uint64_t timeout_usec, rpc_reply_t done, void *userdata);
