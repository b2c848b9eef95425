import Hummingbird
import NIOCore

/// Hummingbird's basic context plus the client's address, which the
/// sign-in throttle counts failures by.
public struct FlexpostRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }

    /// The client's IP address as text, for throttling and logs.
    var clientAddress: String { remoteAddress?.ipAddress ?? "unknown" }
}
