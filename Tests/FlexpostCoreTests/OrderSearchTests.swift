import FlexpostCore
import Foundation
import Testing

/// SPEC §7: one search field, normalised once for the index and the query.
@Suite struct OrderSearchTests {
    @Test("phone numbers with or without spaces, +49 or 0049 or 0 are one term; e-mail addresses and ids ignore case")
    func terms() throws {
        #expect(OrderSearch.term("+49 221 4711000") == "02214711000")
        #expect(OrderSearch.term("0221 4711000") == "02214711000")
        #expect(OrderSearch.term("0049 (221) 471-1000") == "02214711000")
        #expect(OrderSearch.term("+43 1 2345678") == "004312345678", "another country keeps its code")
        #expect(OrderSearch.term(" Erika.Mueller@Mueller-Logistik.example ") == "erika.mueller@mueller-logistik.example")
        #expect(OrderSearch.term("ord-2026-004711") == OrderSearch.term("ORD-2026-004711"))
        #expect(OrderSearch.term("5500123456") == "5500123456")
        let order = try EventDecoder().decode(Fixtures.event("order-second-site.json"))
        guard case .orderConfirmed(let confirmed) = order.event else { Issue.record("not an order"); return }
        let terms = OrderSearch.terms(confirmed)
        for query in ["ORD-2026-004711", "5500123456", "erika.mueller@mueller-logistik.example", "bsp-admin@mueller-logistik.example",
                      "0221 4711001", "+49 221 4711003", "sp-300401"] {
            #expect(terms.contains(OrderSearch.term(query)), "\(query)")
        }
        #expect(!terms.contains(OrderSearch.term("s7Qp-Lx2r-9vTm")), "never a secret")
    }
}
