//! WebSocket endpoints of the mock chatbot: a JSON chat protocol on `GET /ws`, a minimal
//! Engine.IO v4 / Socket.IO server on `GET /socket.io/`, and `GET /__ws_connections`.

mod chat;
mod common;
mod socket_io;

pub(super) use common::configure;
