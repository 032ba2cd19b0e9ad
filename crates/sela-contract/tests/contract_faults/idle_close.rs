//! A connection that a server closes once it has been idle for a while, as
//! real servers close idle keep-alive connections (nginx `keepalive_timeout`,
//! gunicorn `--keep-alive`, a socket timeout of Python's `http.server`).
//!
//! The race that makes this matter: the server closes just as the client
//! sends its next request on the connection, and the request meets the close
//! on the wire (the client sees "connection closed before message completed";
//! the server never read the request). Over loopback the close arrives within
//! microseconds, so the race would show once in many runs; here the close is
//! delivered [`FIN_IN_FLIGHT`] late, as over a network with a slow path, so
//! every reuse of a connection idle longer than the timeout meets it.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// How long after the idle timeout the client learns of the close: a request
/// sent within it is lost; after it, hyper really closes the connection.
pub const FIN_IN_FLIGHT: Duration = Duration::from_millis(500);

/// A stream that refuses a request arriving after more than `idle` since the
/// last answer was written (the server had closed it by then).
pub struct IdleClose<T> {
    inner: T,
    idle: Duration,
    /// When an answer was last written, if one was since the last read: the
    /// next read is then the start of the next request.
    answered: Option<Instant>,
}

impl<T> IdleClose<T> {
    /// Wraps `inner`, closing it after `idle` without a request.
    pub fn new(inner: T, idle: Duration) -> IdleClose<T> {
        IdleClose {
            inner,
            idle,
            answered: None,
        }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for IdleClose<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        ready!(Pin::new(&mut self.inner).poll_read(cx, buf))?;
        if buf.filled().len() > before {
            if self.answered.is_some_and(|at| at.elapsed() > self.idle) {
                // Closed before this request came: it is never read.
                buf.set_filled(before);
                return Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::ConnectionAborted,
                    "closed after the keep-alive timeout",
                )));
            }
            self.answered = None;
        }
        Poll::Ready(Ok(()))
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for IdleClose<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let n = ready!(Pin::new(&mut self.inner).poll_write(cx, buf))?;
        if n > 0 {
            self.answered = Some(Instant::now());
        }
        Poll::Ready(Ok(n))
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let n = ready!(Pin::new(&mut self.inner).poll_write_vectored(cx, bufs))?;
        if n > 0 {
            self.answered = Some(Instant::now());
        }
        Poll::Ready(Ok(n))
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
