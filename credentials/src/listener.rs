//! A TCP listener for the servers that bounds the connections open at once
//! and closes connections that stall.
//!
//! `axum::serve` sets no timeout on reading a request's header fields, so
//! a client that opens connections and sends nothing, or one byte now and
//! then, keeps them open forever, and enough of them use up the process's file
//! descriptors. Here a connection is closed when it sends or takes no byte
//! for [`IDLE_TIMEOUT`], or gets no response byte for
//! [`RESPONSE_TIMEOUT`], and at most [`MAX_CONNECTIONS`] are open at once:
//! more wait in the kernel's backlog.

use axum::serve::Listener;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::{Instant, Sleep};

/// Connections open at once by default.
pub const MAX_CONNECTIONS: usize = 4096;

/// Default time a connection may stay without a byte in either direction,
/// also the keep-alive time of an idle connection.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// Default time a connection may stay without a response byte: longer than
/// the slowest request the servers allow, a photo upload of 180 s.
pub const RESPONSE_TIMEOUT: Duration = Duration::from_secs(300);

/// A [`TcpListener`] whose connections are bounded in number and time.
/// Pass it to `axum::serve`, through `tap_io` when the handlers need
/// `ConnectInfo<SocketAddr>`.
pub struct BoundedListener {
    inner: TcpListener,
    slots: Arc<Semaphore>,
    idle: Duration,
    response: Duration,
}

impl BoundedListener {
    /// Creates a listener with [`MAX_CONNECTIONS`], [`IDLE_TIMEOUT`] and
    /// [`RESPONSE_TIMEOUT`].
    pub fn new(inner: TcpListener) -> Self {
        Self::with_limits(inner, MAX_CONNECTIONS, IDLE_TIMEOUT, RESPONSE_TIMEOUT)
    }

    pub fn with_limits(
        inner: TcpListener,
        connections: usize,
        idle: Duration,
        response: Duration,
    ) -> Self {
        Self {
            inner,
            slots: Arc::new(Semaphore::new(connections)),
            idle,
            response,
        }
    }
}

impl Listener for BoundedListener {
    type Io = BoundedStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (BoundedStream, SocketAddr) {
        // The semaphore is never closed, so the permit is always granted.
        let permit = self.slots.clone().acquire_owned().await.ok();
        let (stream, addr) = Listener::accept(&mut self.inner).await;
        let now = Instant::now();
        let stream = BoundedStream {
            stream,
            _permit: permit,
            idle: self.idle,
            response: self.response,
            idle_timer: Box::pin(tokio::time::sleep_until(now + self.idle)),
            response_timer: Box::pin(tokio::time::sleep_until(now + self.response)),
        };
        (stream, addr)
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }
}

/// A connection of a [`BoundedListener`]. Its slot is freed when it is
/// dropped.
pub struct BoundedStream {
    stream: TcpStream,
    _permit: Option<OwnedSemaphorePermit>,
    idle: Duration,
    response: Duration,
    idle_timer: Pin<Box<Sleep>>,
    response_timer: Pin<Box<Sleep>>,
}

impl BoundedStream {
    /// Restarts the idle timer after a byte went either way.
    fn moved(&mut self) {
        self.idle_timer.as_mut().reset(Instant::now() + self.idle);
    }

    /// Restarts both timers after a response byte was written.
    fn responded(&mut self) {
        self.moved();
        self.response_timer
            .as_mut()
            .reset(Instant::now() + self.response);
    }

    /// Restarts the timers after bytes were written, or checks them while
    /// the write waits.
    fn after_write(
        &mut self,
        cx: &mut Context<'_>,
        polled: Poll<io::Result<usize>>,
    ) -> Poll<io::Result<usize>> {
        match polled {
            Poll::Ready(Ok(written)) => {
                if written > 0 {
                    self.responded();
                }
                Poll::Ready(Ok(written))
            }
            Poll::Ready(Err(error)) => Poll::Ready(Err(error)),
            Poll::Pending => self.poll_timers(cx).map(Err),
        }
    }

    /// Returns a timeout error once a timer has fired, and registers `cx`
    /// with both timers otherwise.
    fn poll_timers(&mut self, cx: &mut Context<'_>) -> Poll<io::Error> {
        if self.idle_timer.as_mut().poll(cx).is_ready() {
            return Poll::Ready(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("no byte sent or received for {:?}", self.idle),
            ));
        }
        if self.response_timer.as_mut().poll(cx).is_ready() {
            return Poll::Ready(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("no response for {:?}", self.response),
            ));
        }
        Poll::Pending
    }
}

impl AsyncRead for BoundedStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        match Pin::new(&mut this.stream).poll_read(cx, buf) {
            Poll::Ready(Ok(())) if buf.filled().len() > before => {
                this.moved();
                Poll::Ready(Ok(()))
            }
            Poll::Ready(result) => Poll::Ready(result),
            Poll::Pending => this.poll_timers(cx).map(Err),
        }
    }
}

impl AsyncWrite for BoundedStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.stream).poll_write(cx, buf);
        this.after_write(cx, polled)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.stream).poll_write_vectored(cx, bufs);
        this.after_write(cx, polled)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// Serves `GET /` with `ok` behind a listener with these limits.
    async fn start(connections: usize, idle: Duration, response: Duration) -> SocketAddr {
        let inner = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = inner.local_addr().expect("addr");
        let listener = BoundedListener::with_limits(inner, connections, idle, response);
        let app = axum::Router::new().route("/", axum::routing::get(|| async { "ok" }));
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        addr
    }

    /// Reads until the server closes or resets the connection, and returns
    /// what it sent.
    async fn read_to_close(stream: &mut TcpStream) -> Vec<u8> {
        let mut received = Vec::new();
        let closed =
            tokio::time::timeout(Duration::from_secs(20), stream.read_to_end(&mut received)).await;
        assert!(closed.is_ok(), "the server kept the connection open");
        received
    }

    const GET: &[u8] = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n";

    #[tokio::test]
    async fn silent_connection_is_closed() {
        let addr = start(8, Duration::from_millis(300), Duration::from_secs(30)).await;
        let mut silent = TcpStream::connect(addr).await.expect("connect");
        assert!(read_to_close(&mut silent).await.is_empty());
    }

    #[tokio::test]
    async fn trickled_request_head_is_closed() {
        let addr = start(8, Duration::from_millis(400), Duration::from_millis(1500)).await;
        let mut slow = TcpStream::connect(addr).await.expect("connect");
        // One byte every 100 ms keeps the idle timer from firing, but no
        // response comes before the response timer fires.
        let trickle = async {
            for byte in b"GET / HTTP/1.1\r\nX-Slow: ".iter().cycle() {
                if slow.write_all(&[*byte]).await.is_err() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        };
        let _ = tokio::time::timeout(Duration::from_secs(20), trickle).await;
        let answer = read_to_close(&mut slow).await;
        assert!(!answer.starts_with(b"HTTP/1.1 200"));
    }

    #[tokio::test]
    async fn extra_connections_wait_for_a_slot() {
        let addr = start(1, Duration::from_millis(500), Duration::from_secs(30)).await;
        let mut holder = TcpStream::connect(addr).await.expect("connect");
        holder.write_all(GET).await.expect("write");
        let mut first = [0u8; 12];
        holder.read_exact(&mut first).await.expect("first response");
        assert_eq!(&first, b"HTTP/1.1 200");

        // The only slot is held by the kept-alive connection, so the next
        // one is served once the idle timeout has closed it.
        let mut next = TcpStream::connect(addr).await.expect("connect");
        next.write_all(GET).await.expect("write");
        let mut second = [0u8; 12];
        tokio::time::timeout(Duration::from_secs(20), next.read_exact(&mut second))
            .await
            .expect("served after the idle timeout")
            .expect("second response");
        assert_eq!(&second, b"HTTP/1.1 200");
        read_to_close(&mut holder).await;
    }
}
