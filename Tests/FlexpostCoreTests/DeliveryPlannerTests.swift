@testable import FlexpostCore
import Foundation
import Testing

/// R1–R4 at intake: which deliveries an order gets, to whom, when.
@Suite("delivery planning")
struct DeliveryPlannerTests {
    let planner = DeliveryPlanner(
        schedule: AccessDataSchedule(timeZone: TimeZone(identifier: "Europe/Berlin")!, sendAt: LocalTime("08:00")!),
        messageIDDomain: "companyflex.example")

    func order(_ name: String) throws -> OrderConfirmation {
        guard case .orderConfirmed(let order) = try EventDecoder().decode(Fixtures.event(name)).event else {
            throw EventRejection(field: "type", rule: "not an order")
        }
        return order
    }

    func summary(_ plan: OrderIntakePlan) -> [String] {
        plan.deliveries.map { "\($0.kind.rawValue) \($0.recipient.email) \(RFC3339.format($0.dueAt)) \($0.language.rawValue)" }
    }

    @Test("second site, active account: access data next day 08:00, notice at once")
    func secondSite() throws {
        let plan = planner.plan(try order("order-second-site.json"), portalKnownActive: false)
        #expect(summary(plan) == [
            "access-data erika.mueller@mueller-logistik.example 2026-12-01T07:00:00Z de",
            "admin-notice bsp-admin@mueller-logistik.example 2026-11-30T14:12:00Z de",
        ])
        #expect(plan.order.secrets.oneTimePassword == nil)
    }

    @Test("second base package: one notice per administrator")
    func secondBasePackage() throws {
        let plan = planner.plan(try order("order-second-base-package.json"), portalKnownActive: false)
        #expect(plan.deliveries.map(\.kind) == [.accessData, .adminNotice, .adminNotice])
        #expect(plan.deliveries.map(\.recipient.email.value).suffix(2) == ["bsp-admin@mueller-logistik.example", "it@mueller-logistik.example"])
    }

    @Test("new customer: access data with OTP kept, no notice; English")
    func newCustomer() throws {
        let plan = planner.plan(try order("order-new-customer.json"), portalKnownActive: false)
        #expect(summary(plan) == ["access-data sam.taylor@brightline.example 2026-12-01T07:00:00Z en"])
        #expect(plan.order.secrets.oneTimePassword?.exposedValue == "K9vR-7tXq-M2wL")
    }

    @Test("R2 at intake: an OTP for an account already known active is discarded")
    func knownActiveDropsOTP() throws {
        let plan = planner.plan(try order("order-new-customer.json"), portalKnownActive: true)
        #expect(plan.order.secrets.oneTimePassword == nil)
    }

    @Test("R4: services only sends nothing and says so")
    func servicesOnly() throws {
        let plan = planner.plan(try order("order-services-only.json"), portalKnownActive: false)
        #expect(plan.deliveries.isEmpty)
        #expect(plan.note != nil)
    }

    @Test("message ids are unique and carry the sender's domain")
    func messageIDs() {
        let ids = Set((0..<100).map { _ in planner.newMessageID() })
        #expect(ids.count == 100)
        #expect(ids.allSatisfy { $0.hasPrefix("<") && $0.hasSuffix("@companyflex.example>") })
        // The local part is a lower-case version 4 UUID, as Foundation's UUID would write it.
        for id in ids {
            let local = String(id.dropFirst().prefix { $0 != "@" })
            let uuid = UUID(uuidString: local)
            #expect(uuid != nil && uuid!.uuidString.lowercased() == local, "\(id)")
            let version = local[local.index(local.startIndex, offsetBy: 14)]
            let variant = local[local.index(local.startIndex, offsetBy: 19)]
            #expect(version == "4" && "89ab".contains(variant), "\(id)")
        }
        #expect(DeliveryPlanner.uuidText(high: 0x0123_4567_89AB_CDEF, low: 0xFEDC_BA98_7654_3210)
            == "01234567-89ab-4def-bedc-ba9876543210")
        #expect(DeliveryPlanner.uuidText(high: 0, low: 0) == "00000000-0000-4000-8000-000000000000")
    }

    @Test("backoff: grows, capped, jittered within bounds, ends at the lifetime")
    func backoff() {
        let policy = RetryPolicy(firstDelay: 60, maximumDelay: 3600, lifetime: 3 * 86_400, jitter: 0.2)
        let start = Date(timeIntervalSince1970: 0)
        #expect(policy.nextAttempt(after: 1, now: start, firstDue: start, random: 0.5) == start.addingTimeInterval(60))
        #expect(policy.nextAttempt(after: 3, now: start, firstDue: start, random: 0.5) == start.addingTimeInterval(240))
        #expect(policy.nextAttempt(after: 20, now: start, firstDue: start, random: 0.5) == start.addingTimeInterval(3600))
        #expect(policy.nextAttempt(after: 1, now: start, firstDue: start, random: 0) == start.addingTimeInterval(48))
        #expect(policy.nextAttempt(after: 1, now: start, firstDue: start, random: 0.999)!.timeIntervalSince(start) < 72)
        let late = start.addingTimeInterval(3 * 86_400 - 10)
        #expect(policy.nextAttempt(after: 40, now: late, firstDue: start, random: 0.5) == nil)
    }
}
