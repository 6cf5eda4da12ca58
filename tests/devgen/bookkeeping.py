"""Personal-finance / bookkeeping assistant ("ledger-assistant"; Gemini models). Seed 0 writes it as flat
OpenInference spans; other seeds rotate it through the other formats (``devgen.FORMATS``).

``validate_e_invoice`` is a validation *service*: its job is to check the user's e-invoice, so
``{"valid": false, "errors": [...]}`` is data about the document, not a failed call."""

from __future__ import annotations

import random

from devgen.core import Run, Variant
from devgen.values import MONTHS, date, digits, email, hexs, money, person

NAME = "ledger-assistant"
ROOT_NAME = "LedgerAssistant.run"
VERSION = "0.14.3"
DIRNAME, GENERATION_NAME, PROVIDER = "bookkeeping", "GenerateContent", "google"
SDK_AGENT, WORKFLOW = "Ledger", "Ledger chat"  # OpenAI Agents SDK agent and workflow names
MODELS = ("gemini-2.0-flash-001", "gemini-2.5-pro-preview-05-06")
SYSTEM = ("You are Ledger, a bookkeeping assistant for freelancers and small businesses. Amounts are in the "
          "account currency unless stated. Always confirm before writing to the ledger.")
CATEGORIES = ["software", "travel", "meals", "office", "income", "tax", "bank_fees", "hardware", "rent"]
MERCHANTS = ["Deutsche Bahn", "Figma", "AWS EMEA", "Uber BV", "IKEA", "Staples", "Hetzner Online", "Lufthansa",
             "Notion Labs", "WeWork", "Apple Store", "Pret A Manger", "Adobe"]

TOOLS = [
    {"name": "list_transactions", "description": "Bank-feed transactions of an account, newest first.",
     "parameters": {"type": "object", "properties": {
         "account_id": {"type": "string", "pattern": "^acc_\\d{6}$"},
         "date_from": {"type": "string", "format": "date"}, "date_to": {"type": "string", "format": "date"},
         "cursor": {"type": "string"}, "limit": {"type": "integer", "maximum": 200}},
         "required": ["account_id"]}},
    {"name": "categorize_transaction", "description": "Set the bookkeeping category of a transaction.",
     "parameters": {"type": "object", "properties": {
         "transaction_id": {"type": "string", "pattern": "^txn_[0-9a-z]{10}$"},
         "category": {"type": "string", "enum": CATEGORIES},
         "vat_rate": {"type": "number", "enum": [0, 0.07, 0.19, 0.2, 0.21]}},
         "required": ["transaction_id", "category"], "additionalProperties": False}},
    {"name": "get_account_balance", "description": "Current and available balance.",
     "parameters": {"type": "object", "properties": {"account_id": {"type": "string", "pattern": "^acc_\\d{6}$"}},
                    "required": ["account_id"]}},
    {"name": "get_invoice", "description": "Fetch an invoice.",
     "parameters": {"type": "object", "properties": {"invoice_id": {"type": "string", "pattern": "^INV-\\d{4}-\\d{4}$"}},
                    "required": ["invoice_id"]}},
    {"name": "create_invoice", "description": "Create and send an invoice to a client.",
     "parameters": {"type": "object", "properties": {
         "client_id": {"type": "string"}, "currency": {"type": "string", "enum": ["EUR", "USD", "GBP", "CHF"]},
         "due_date": {"type": "string", "format": "date"},
         "line_items": {"type": "array", "items": {"type": "object", "properties": {
             "description": {"type": "string"}, "quantity": {"type": "number"}, "unit_price": {"type": "number"}},
             "required": ["description", "unit_price"]}}},
         "required": ["client_id", "currency", "due_date", "line_items"], "additionalProperties": False}},
    {"name": "record_payment", "description": "Record a payment received against an invoice.",
     "parameters": {"type": "object", "properties": {
         "invoice_id": {"type": "string", "pattern": "^INV-\\d{4}-\\d{4}$"}, "amount": {"type": "number"},
         "method": {"type": "string", "enum": ["bank_transfer", "card", "cash", "paypal"]},
         "received_on": {"type": "string", "format": "date"}},
         "required": ["invoice_id", "amount", "method"]}},
    {"name": "fetch_exchange_rate", "description": "ECB reference rate for a currency pair on a date.",
     "parameters": {"type": "object", "properties": {
         "base": {"type": "string", "pattern": "^[A-Z]{3}$"}, "quote": {"type": "string", "pattern": "^[A-Z]{3}$"},
         "date": {"type": "string", "format": "date"}}, "required": ["base", "quote"]}},
    {"name": "generate_report", "description": "Build a financial report for a period.",
     "parameters": {"type": "object", "properties": {
         "kind": {"type": "string", "enum": ["profit_and_loss", "balance_sheet", "cash_flow", "vat_return"]},
         "period": {"type": "string", "pattern": "^\\d{4}-(Q[1-4]|\\d{2})$"},
         "format": {"type": "string", "enum": ["summary", "detailed"]}}, "required": ["kind", "period"]}},
    {"name": "search_receipts", "description": "Search uploaded receipts.",
     "parameters": {"type": "object", "properties": {
         "query": {"type": "string"}, "merchant": {"type": "string"}, "amount": {"type": "number"}},
         "required": ["query"]}},
    {"name": "reconcile_account", "description": "Match a bank statement against ledger entries.",
     "parameters": {"type": "object", "properties": {
         "account_id": {"type": "string", "pattern": "^acc_\\d{6}$"},
         "statement_id": {"type": "string"}}, "required": ["account_id", "statement_id"]}},
    {"name": "send_payment_reminder", "description": "Email a client about an open invoice (reminder or balance "
                                                     "update).",
     "parameters": {"type": "object", "properties": {
         "invoice_id": {"type": "string", "pattern": "^INV-\\d{4}-\\d{4}$"},
         "recipient": {"type": "string", "format": "email"},
         "message": {"type": "string", "maxLength": 1000},
         "tone": {"type": "string", "enum": ["friendly", "firm", "final_notice"]}},
         "required": ["invoice_id", "recipient", "message"], "additionalProperties": False}},
    {"name": "validate_e_invoice", "description": "Validate an uploaded e-invoice (XRechnung, ZUGFeRD, Peppol BIS) "
                                                  "against EN 16931 and the national rules.",
     "parameters": {"type": "object", "properties": {
         "document_id": {"type": "string", "pattern": "^doc_[0-9a-f]{12}$"},
         "profile": {"type": "string", "enum": ["xrechnung-3.0", "zugferd-2.3-en16931", "peppol-bis-3.0"]}},
         "required": ["document_id"], "additionalProperties": False}},
]

LAT = {"list_transactions": (200, 900), "categorize_transaction": (60, 250), "get_account_balance": (120, 600),
       "get_invoice": (50, 200), "create_invoice": (300, 1100), "record_payment": (150, 600),
       "fetch_exchange_rate": (90, 400), "generate_report": (900, 3500), "search_receipts": (150, 700),
       "reconcile_account": (1500, 6000), "send_payment_reminder": (300, 1200), "validate_e_invoice": (400, 2500)}


def call_id(rng: random.Random, seq: int) -> str:
    return f"fc_{hexs(rng, 12)}"


def txn_id(rng: random.Random) -> str:
    return "txn_" + "".join(rng.choice("0123456789abcdefghijklmnopqrstuvwxyz") for _ in range(10))


class Books:
    def __init__(self, rng: random.Random) -> None:
        self.account = f"acc_{digits(rng, 6)}"
        self.client = f"cli_{hexs(rng, 6)}"
        self.client_name = person(rng)
        self.invoice = f"INV-2025-{rng.randint(1, 480):04d}"
        self.amount = money(rng, 180, 9800)
        self.currency = rng.choice(["EUR", "EUR", "USD", "GBP"])
        self.month = rng.randint(1, 5)
        self.period = f"2025-{self.month:02d}"
        self.mail = email(self.client_name, rng.choice(["studio-nord.de", "gmail.com", "acme-consult.eu", "posteo.de"]))
        self.first = self.client_name.split()[0]


def transactions(rng: random.Random, n: int) -> list[dict]:
    return [{"id": txn_id(rng), "date": date(rng, 1, 5), "amount": -money(rng, 3, 900) if rng.random() < 0.8
             else money(rng, 400, 6000), "merchant": rng.choice(MERCHANTS), "category": None} for _ in range(n)]


def flow_categorize(run: Run) -> None:
    b = Books(run.rng)
    run.begin("categorize", run.pick([f"Categorise last month's uncategorised transactions on {b.account}.",
                                      f"Sort out the categories for my {MONTHS[b.month - 1]} spending.",
                                      "Can you tidy up the uncategorised bank transactions?"]))
    txns = transactions(run.rng, run.rng.randint(2, 5))
    run.call("list_transactions", {"account_id": b.account, "date_from": f"{b.period}-01",
                                   "date_to": f"{b.period}-28"}, {"transactions": txns, "next_cursor": None})
    for i, t in enumerate(txns[: run.rng.randint(1, len(txns))]):
        run.call("categorize_transaction", {"transaction_id": t["id"], "category": run.pick(CATEGORIES)},
                 {"id": t["id"], "updated": True}, batched=i > 0)
    run.say("Categorised the open transactions.")


def flow_invoice(run: Run) -> None:
    b = Books(run.rng)
    hours = run.rng.randint(4, 60)
    rate = run.pick([65, 80, 95, 120, 140])
    run.begin("invoice", f"Invoice {b.client_name} for {hours} hours at {rate} {b.currency}/h, due in 30 days.")
    run.call("create_invoice", {"client_id": b.client, "currency": b.currency, "due_date": date(run.rng, 6, 7),
                                "line_items": [{"description": f"Consulting, {MONTHS[b.month - 1]} 2025",
                                                "quantity": hours, "unit_price": rate}]},
             {"invoice_id": b.invoice, "status": "sent", "total": hours * rate, "pdf_url":
              f"https://ledger.example/i/{hexs(run.rng, 16)}.pdf"})
    run.say(f"Invoice {b.invoice} for {hours * rate} {b.currency} was sent.")


def flow_payment(run: Run) -> None:
    b = Books(run.rng)
    run.begin("payment", f"{b.client_name} paid invoice {b.invoice} by bank transfer today.")
    run.call("get_invoice", {"invoice_id": b.invoice}, {"invoice_id": b.invoice, "client": b.client_name,
                                                       "total": b.amount, "currency": b.currency, "status": "open"})
    run.call("record_payment", {"invoice_id": b.invoice, "amount": b.amount, "method": "bank_transfer",
                                "received_on": date(run.rng)}, {"payment_id": f"pay_{hexs(run.rng, 10)}",
                                                                "invoice_status": "paid"})
    run.say(f"Recorded the payment of {b.amount} {b.currency}; {b.invoice} is now paid.")


def flow_report(run: Run) -> None:
    b = Books(run.rng)
    kind = run.pick(["profit_and_loss", "cash_flow", "vat_return"])
    run.begin("report", f"Give me a {kind.replace('_', ' ')} for {MONTHS[b.month - 1]}.")
    if b.currency != "EUR" and run.rng.random() < 0.6:
        run.call("fetch_exchange_rate", {"base": b.currency, "quote": "EUR", "date": f"{b.period}-28"},
                 {"rate": round(run.rng.uniform(0.85, 1.2), 4), "source": "ECB"})
    income, cost = money(run.rng, 3000, 20000), money(run.rng, 500, 9000)
    run.call("generate_report", {"kind": kind, "period": b.period, "format": "summary"},
             {"period": b.period, "income": income, "expenses": cost, "net": round(income - cost, 2),
              "top_categories": run.rng.sample(CATEGORIES, 3)})
    run.say(f"{MONTHS[b.month - 1]}: income {income}, expenses {cost}, net {round(income - cost, 2)}.")


def flow_balance(run: Run) -> None:
    b = Books(run.rng)
    run.begin("balance", run.pick(["What's my balance?", f"How much is left on {b.account}?"]))
    bal = money(run.rng, 200, 40000)
    run.call("get_account_balance", {"account_id": b.account}, {"account_id": b.account, "balance": bal,
                                                               "available": round(bal - 120, 2), "currency": "EUR"})
    run.say(f"The balance is {bal} EUR.")


REMINDERS = (
    "Hi {first}, a friendly reminder that invoice {inv} for {amt} was due on {due}. Could you let me know when "
    "I can expect payment? Thanks!",
    "Hello {first}, just following up on {inv} ({amt}, due {due}) — it still shows as open on my side. Please "
    "arrange payment when you can.",
    "Dear {first}, my records show that invoice {inv} over {amt} (due {due}) remains unpaid. I'd be grateful if "
    "you could settle it this week.",
    "Hi {first}, quick nudge on {inv}: {amt} has been outstanding since {due}. Let me know if anything about the "
    "invoice is unclear.",
    "{first}, this is a reminder that the payment of {amt} for invoice {inv} is overdue (due date {due}). Kind "
    "regards",
)


def reminder(b: Books, template: str, due: str, amount: float | None = None) -> str:
    amt = f"{b.amount if amount is None else amount:,.2f} {b.currency}"
    return template.format(first=b.first, inv=b.invoice, amt=amt, due=due)


def reminder_sent(run: Run) -> dict:
    return {"reminder_id": f"rem_{hexs(run.rng, 12)}", "status": "sent",
            "sent_at": f"{date(run.rng)}T{run.rng.randint(7, 19):02d}:{run.rng.randint(0, 59):02d}:00Z"}


def overdue_invoice(b: Books, due: str) -> dict:
    return {"invoice_id": b.invoice, "client": b.client_name, "client_email": b.mail, "total": b.amount,
            "currency": b.currency, "due_date": due, "status": "overdue"}


def flow_reminder(run: Run) -> None:
    b = Books(run.rng)
    due = date(run.rng, 1, 3)
    run.begin("reminder", run.pick([f"{b.client_name} still hasn't paid {b.invoice}. Send a polite reminder.",
                                    f"Chase {b.invoice} please, it's overdue.",
                                    f"Can you nudge {b.first} about {b.invoice}?"]))
    run.call("get_invoice", {"invoice_id": b.invoice}, overdue_invoice(b, due))
    run.call("send_payment_reminder", {"invoice_id": b.invoice, "recipient": b.mail,
                                       "message": reminder(b, run.pick(REMINDERS), due),
                                       "tone": run.pick(["friendly", "firm"])}, reminder_sent(run))
    run.say(f"Sent {b.first} a reminder about {b.invoice}.")


EN16931_ERRORS = (
    ("BR-DE-15", "/Invoice/cbc:BuyerReference", "The element 'Buyer reference' (BT-10) must be transmitted."),
    ("BR-CO-15", "/Invoice/cac:LegalMonetaryTotal",
     "Invoice total amount with VAT (BT-112) = Invoice total amount without VAT (BT-109) + Invoice total VAT "
     "amount (BT-110)."),
    ("BR-DE-23-a", "/Invoice/cac:PaymentMeans",
     "If 'Payment means type code' (BT-81) uses code 58 (SEPA credit transfer), 'CREDIT TRANSFER' (BG-17) must "
     "be transmitted."),
    ("BR-S-08", "/Invoice/cac:TaxTotal/cac:TaxSubtotal",
     "For each different value of VAT category rate (BT-119) the VAT category taxable amount (BT-116) shall "
     "equal the sum of the invoice line net amounts."),
    ("BR-CL-23", "/Invoice/cac:InvoiceLine[2]/cbc:InvoicedQuantity/@unitCode",
     "Unit code MUST be coded according to the UN/ECE Recommendation 20 with Rec 21 extension."),
    ("BR-DE-1", "/Invoice", "An invoice must contain information on 'PAYMENT INSTRUCTIONS' (BG-16)."),
)
EN16931_WARNINGS = (
    ("PEPPOL-EN16931-R008", "/Invoice/cac:AccountingSupplierParty", "Document should not contain empty elements."),
    ("BR-DE-21", "/Invoice/cbc:CustomizationID",
     "The specification identifier should be the XRechnung standard identifier."),
)
PROFILES = ("xrechnung-3.0", "zugferd-2.3-en16931", "peppol-bis-3.0")


def validation(rng: random.Random, doc: str, profile: str, errors: int) -> dict:
    warn = rng.sample(EN16931_WARNINGS, rng.randint(0, 1))
    return {"document_id": doc, "profile": profile, "valid": errors == 0,
            "errors": [{"rule": r, "severity": "fatal", "location": loc, "message": msg}
                       for r, loc, msg in rng.sample(EN16931_ERRORS, errors)],
            "warnings": [{"rule": r, "severity": "warning", "location": loc, "message": msg} for r, loc, msg in warn],
            "validator": "KoSIT validator 1.5.0 / xrechnung-config 3.0.2"}


def flow_einvoice(run: Run) -> None:
    merchant = run.pick(MERCHANTS)
    doc = f"doc_{hexs(run.rng, 12)}"
    profile = run.pick(PROFILES)
    run.begin("e_invoice", run.pick([f"I uploaded the e-invoice from {merchant} ({doc}). Is it compliant?",
                                     f"Check the {merchant} XRechnung before I book it: {doc}"]))
    result = validation(run.rng, doc, profile, 0)
    run.call("validate_e_invoice", {"document_id": doc, "profile": profile}, result)
    run.say(f"The {merchant} e-invoice passes all {profile} checks"
            + (" (one non-blocking warning)." if result["warnings"] else "."))


FLOWS = [flow_categorize, flow_invoice, flow_payment, flow_report, flow_balance, flow_reminder, flow_einvoice]


def bug_fx_repeat(run: Run) -> str:
    m = "bookkeeping/exchange_rate_exact_repeat"
    b = Books(run.rng)
    cur = run.pick(["USD", "GBP", "CHF"])
    run.begin("report", f"Convert my {cur} income for {MONTHS[b.month - 1]} to EUR in the P&L.")
    args = {"base": cur, "quote": "EUR", "date": f"{b.period}-28"}
    rate = {"rate": round(run.rng.uniform(0.85, 1.2), 4), "source": "ECB", "date": f"{b.period}-28"}
    n = run.rng.randint(3, 6)
    for _ in range(n):
        run.call("fetch_exchange_rate", dict(args), dict(rate), tag=m)
    run.call("generate_report", {"kind": "profit_and_loss", "period": b.period}, {"period": b.period,
                                                                                   "net": money(run.rng, 100, 9000)})
    run.say("The P&L now shows your income in EUR.")
    return f"fetch_exchange_rate called {n} times with identical arguments and results"


def bug_double_payment(run: Run) -> str:
    m = "bookkeeping/payment_recorded_twice"
    b = Books(run.rng)
    run.begin("payment", f"{b.client_name} paid {b.invoice} ({b.amount} {b.currency}) by card.")
    run.call("get_invoice", {"invoice_id": b.invoice}, {"invoice_id": b.invoice, "total": b.amount,
                                                       "currency": b.currency, "status": "open"})
    day = date(run.rng)
    run.call("record_payment", {"invoice_id": b.invoice, "amount": b.amount, "method": "card", "received_on": day},
             {"payment_id": f"pay_{hexs(run.rng, 10)}", "invoice_status": "paid"}, tag=m)
    # keys reordered, the amount spelled with trailing zeros (a string amount would also break the
    # declared "number" type: a second, real defect this mode must not carry unlabelled)
    run.call("record_payment", {"method": "card", "invoice_id": b.invoice, "amount": float(f"{b.amount:.2f}"),
                                "received_on": day},
             {"payment_id": f"pay_{hexs(run.rng, 10)}", "invoice_status": "overpaid"}, tag=m,
             think=run.pick([None, "Recording the payment.", "Let me log this payment."]))
    run.say(f"Payment of {b.amount} recorded.")
    return "record_payment ran twice for one payment (keys reordered)"


def bug_due_date(run: Run) -> str:
    m = "bookkeeping/invoice_due_date_not_iso"
    b = Books(run.rng)
    run.begin("invoice", f"Bill {b.client_name} {b.amount} {b.currency} for the website project, due end of June.")
    bad = run.pick(["30/06/2025", "June 30th", "end of June", "2025-6-30", "06-30-2025", "in 30 days"])
    run.call("create_invoice", {"client_id": b.client, "currency": b.currency, "due_date": bad,
                                "line_items": [{"description": "Website project", "unit_price": b.amount}]},
             {"invoice_id": b.invoice, "status": "sent", "due_date": None}, tag=m)
    run.say(f"Invoice {b.invoice} sent.")
    return f"create_invoice due_date={bad!r} is not an ISO date; the invoice went out without a due date"


INFLECTED = {"meals": ["meal", "Meal"], "bank_fees": ["bank_fee", "bank-fee", "bankfee"],
             "software": ["softwares", "Softwares"], "travel": ["travels", "Travels"], "tax": ["taxes", "Taxes"],
             "office": ["offices"]}


def bug_category_inflected(run: Run) -> str:
    m = "bookkeeping/category_inflection_accepted"
    b = Books(run.rng)
    run.begin("categorize", run.pick([f"Put the last {b.account} transactions in the right categories.",
                                      f"Categorise my {MONTHS[b.month - 1]} bank transactions please.",
                                      "Tidy up the uncategorised transactions."]))
    txns = transactions(run.rng, run.rng.randint(2, 4))
    run.call("list_transactions", {"account_id": b.account, "date_from": f"{b.period}-01",
                                   "date_to": f"{b.period}-28"}, {"transactions": txns, "next_cursor": None})
    good, wrong = run.pick(sorted(INFLECTED.items()))
    bad = run.pick(wrong)
    run.call("categorize_transaction", {"transaction_id": txns[0]["id"], "category": bad},
             run.pick([{"id": txns[0]["id"], "updated": True}, {"id": txns[0]["id"], "updated": True, "category": bad},
                       {"id": txns[0]["id"], "updated": True, "warnings": []}]), tag=m)
    for t in txns[1:]:
        run.call("categorize_transaction", {"transaction_id": t["id"], "category": run.pick(CATEGORIES)},
                 {"id": t["id"], "updated": True}, batched=True)
    run.say(f"Done: {txns[0]['merchant']} is now under {bad}, the rest are categorised too.")
    return (f"categorize_transaction category={bad!r} is an inflection of the enum value {good!r}; the ledger "
            "accepted it silently, so the transaction sits in a category no report reads")


def bug_credit_note_as_invoice(run: Run) -> str:
    m = "bookkeeping/payment_against_credit_note_id"
    b = Books(run.rng)
    crn = f"CRN-2025-{run.rng.randint(1, 120):04d}"
    run.begin("payment", run.pick([
        f"{b.client_name} paid {b.amount} {b.currency} for {b.invoice}, net of credit note {crn}. Record it please.",
        f"Payment in from {b.client_name}: {b.amount} {b.currency} (credit note {crn} applied to {b.invoice}).",
        f"Log {b.client_name}'s transfer of {b.amount} {b.currency}. It settles {b.invoice} after credit note {crn}."]))
    args = {"invoice_id": crn, "amount": b.amount, "method": "bank_transfer"}
    outcome = run.pick(["corrected", "corrected", "accepted", "reported"])
    missing = run.pick([{"error": f"No invoice with id {crn}"}, {"detail": "Not Found"},
                        {"error": {"code": "resource_missing", "message": f"No such invoice: '{crn}'"}}])
    if outcome == "accepted":
        run.call("record_payment", args, {"payment_id": f"pay_{hexs(run.rng, 10)}", "invoice_status": "unknown",
                                          "unapplied": True}, tag=m)
        run.say(f"Recorded {b.client_name}'s payment of {b.amount} {b.currency}.")
        return "record_payment got the credit note's id as invoice_id; the ledger booked an unapplied payment"
    run.call("record_payment", args, missing, error=run.pick([None, "404 Not Found"]), tag=m)
    if outcome == "reported":
        run.say(f"I couldn't find an invoice {crn}, so I haven't recorded the payment yet.")
        return "record_payment got the credit note's id as invoice_id, was told there is no such invoice, and stopped"
    run.call("record_payment", {**args, "invoice_id": b.invoice},
             {"payment_id": f"pay_{hexs(run.rng, 10)}", "invoice_status": "paid"},
             think=run.pick([None, f"That was the credit note; the invoice is {b.invoice}."]))
    run.say(f"Recorded the payment against {b.invoice}; it is now paid.")
    return "record_payment got the credit note's id as invoice_id, then the invoice's id"


def bug_period_rejected(run: Run) -> str:
    m = "bookkeeping/report_period_rejected_then_fixed"
    b = Books(run.rng)
    q = (b.month - 1) // 3 + 1
    run.begin("report", f"VAT return for Q{q} please.")
    bad = run.pick([f"Q{q} 2025", f"2025 Q{q}", f"2025/Q{q}", f"q{q}-2025"])
    err = run.pick([f"period '{bad}' does not match '^\\d{{4}}-(Q[1-4]|\\d{{2}})$'",
                    f"422 Unprocessable Entity: invalid period {bad}"])
    run.call("generate_report", {"kind": "vat_return", "period": bad}, {"error": err}, error=err, tag=m)
    run.call("generate_report", {"kind": "vat_return", "period": f"2025-Q{q}"},
             {"period": f"2025-Q{q}", "vat_due": money(run.rng, 100, 4000)}, think="Fixing the period format.")
    run.say(f"Your Q{q} VAT return is ready.")
    return "generate_report rejected a period that breaks its pattern; corrected on the second call"


def bug_reconcile_500(run: Run) -> str:
    m = "bookkeeping/reconcile_error_inside_ok_body"
    b = Books(run.rng)
    stmt = f"stmt_{b.period.replace('-', '')}_{digits(run.rng, 3)}"
    run.begin("reconcile", f"Reconcile {b.account} against the {MONTHS[b.month - 1]} statement.")
    body = run.pick([{"status": 500, "error": {"code": "INTERNAL", "message": "matcher crashed"}, "matched": None},
                     {"http_status": 502, "body": "upstream bank connector failed"},
                     {"result": None, "errors": [{"message": "statement parse failed at line "
                                                             f"{run.rng.randint(10, 400)}"}]}])
    run.call("reconcile_account", {"account_id": b.account, "statement_id": stmt}, body, tag=m)
    run.say(f"{b.account} is reconciled for {MONTHS[b.month - 1]}.")
    return "reconcile_account returned an error body with an OK status; the agent reported success"


def bug_missing_invoice(run: Run) -> str:
    m = "bookkeeping/missing_invoice_payment_recorded"
    b = Books(run.rng)
    run.begin("payment", f"Mark {b.invoice} as paid, {b.amount} {b.currency}.")
    run.call("get_invoice", {"invoice_id": b.invoice},
             run.pick([{"error": {"type": "not_found", "message": f"Invoice {b.invoice} not found"}},
                       {"invoice": None}, f"No invoice matches {b.invoice}."]), tag=m)
    run.call("record_payment", {"invoice_id": b.invoice, "amount": b.amount, "method": "bank_transfer"},
             {"payment_id": f"pay_{hexs(run.rng, 10)}", "invoice_status": "unknown", "unapplied": True}, tag=m)
    run.say(f"{b.invoice} is marked as paid.")
    return "get_invoice found nothing, yet a payment was recorded against that invoice id"


def bug_feed_expired(run: Run) -> str:
    m = "bookkeeping/bank_feed_auth_gave_up"
    b = Books(run.rng)
    run.begin("categorize", f"Categorise my {MONTHS[b.month - 1]} transactions.")
    err = run.pick(["401 Unauthorized: bank consent expired", "PlaidError: ITEM_LOGIN_REQUIRED",
                    "GoCardless: EUA expired for institution"])
    run.call("list_transactions", {"account_id": b.account, "date_from": f"{b.period}-01"}, {"error": err},
             error=err, tag=m)
    run.stop(run.pick(["I'm sorry, I couldn't access your bank transactions.",
                       "Unfortunately the bank feed is not available, so I can't categorise anything."]))
    return "list_transactions failed (expired bank consent) and the run gave up"


def bug_balance_slow(run: Run) -> str:
    m = "bookkeeping/balance_latency_spike"
    flow_balance(run)
    act = run.actions[-1]
    act.tags = (m,)
    act.ms = run.rng.randint(40_000, 95_000)
    return f"get_account_balance took {act.ms / 1000:.1f} s (normally under 1 s)"


def bug_receipt_reworded(run: Run) -> str:
    m = "bookkeeping/receipt_search_reworded_loop"
    merchant = run.pick(MERCHANTS)
    amount = money(run.rng, 5, 300)
    run.begin("receipts", f"Find the receipt for the {merchant} charge of {amount}.")
    queries = [f"{merchant} {amount}", f"{merchant.lower()} receipt", f"{merchant} {amount:.0f}",
               f"receipt from {merchant}", f"{merchant.split()[0].upper()} *{amount}", f"{merchant} invoice {amount}"]
    run.rng.shuffle(queries)
    n = run.rng.randint(4, 6)
    for q in queries[:n]:
        run.call("search_receipts", {"query": q}, {"receipts": [], "total": 0}, tag=m)
    run.stop("I couldn't find that receipt.")
    return f"search_receipts reworded {n} times, identical empty results"


def run_turn_limit(run: Run) -> str:
    m = "bookkeeping/turn_limit_reported_ok"
    b = Books(run.rng)
    run.begin("categorize", "Categorise everything from this year.")
    txns = transactions(run.rng, 40)
    run.call("list_transactions", {"account_id": b.account, "date_from": "2025-01-01", "limit": 200},
             {"transactions": txns, "next_cursor": f"cur_{hexs(run.rng, 10)}"})
    limit = run.pick([20, 25, 30])
    for t in txns[: limit - 1]:
        run.call("categorize_transaction", {"transaction_id": t["id"], "category": run.pick(CATEGORIES)},
                 {"id": t["id"], "updated": True})
    run.stop(run.pick([f"Stopped: reached the maximum of {limit} steps.",
                       f"Agent stopped after {limit} turns (max_turns)."]))
    run.root_extra.update({"agent.max_turns": limit, "agent.stop_reason": "max_turns"})
    run.root_tags.append(m)
    return f"the run hit max_turns={limit} with work left, and the root span still reports OK"


def bug_reminder_twice(run: Run) -> str:
    m = "bookkeeping/payment_reminder_sent_twice"
    b = Books(run.rng)
    due = date(run.rng, 1, 3)
    run.begin("reminder", run.pick([f"{b.invoice} from {b.client_name} is overdue, send them a reminder.",
                                    f"Remind {b.first} to pay {b.invoice} please.",
                                    f"{b.client_name} owes me {b.amount} {b.currency} on {b.invoice}. Chase it."]))
    run.call("get_invoice", {"invoice_id": b.invoice}, overdue_invoice(b, due))
    first, second = run.rng.sample(REMINDERS, 2)
    tone = run.pick(["friendly", "firm"])
    run.call("send_payment_reminder", {"invoice_id": b.invoice, "recipient": b.mail,
                                       "message": reminder(b, first, due), "tone": tone}, reminder_sent(run), tag=m)
    run.call("send_payment_reminder", {"invoice_id": b.invoice, "recipient": b.mail,
                                       "message": reminder(b, second, due), "tone": tone}, reminder_sent(run), tag=m,
             think=run.pick([None, "Sending the reminder to the client.", "Let me email the payment reminder."]))
    run.say(f"Sent {b.first} a reminder about {b.invoice}.")
    return ("send_payment_reminder sent twice for the same invoice to the same recipient, the second message "
            "reworded (same facts); both were delivered")


BUGS = [
    Variant("bookkeeping/exchange_rate_exact_repeat", "loop", "fetch_exchange_rate", bug_fx_repeat),
    Variant("bookkeeping/payment_recorded_twice", "duplicate_call", "record_payment", bug_double_payment),
    Variant("bookkeeping/invoice_due_date_not_iso", "argument_error", "create_invoice", bug_due_date),
    Variant("bookkeeping/report_period_rejected_then_fixed", "argument_error", "generate_report", bug_period_rejected),
    Variant("bookkeeping/category_inflection_accepted", "argument_error", "categorize_transaction",
            bug_category_inflected),
    Variant("bookkeeping/payment_against_credit_note_id", "argument_error", "record_payment",
            bug_credit_note_as_invoice),
    Variant("bookkeeping/reconcile_error_inside_ok_body", "silent_failure", "reconcile_account", bug_reconcile_500),
    Variant("bookkeeping/missing_invoice_payment_recorded", "silent_failure", "get_invoice", bug_missing_invoice,
            tools=("get_invoice", "record_payment")),
    Variant("bookkeeping/bank_feed_auth_gave_up", "unrecovered_error", "list_transactions", bug_feed_expired,
            terminal=True),
    Variant("bookkeeping/balance_latency_spike", "outlier", "get_account_balance", bug_balance_slow),
    Variant("bookkeeping/receipt_search_reworded_loop", "loop", "search_receipts", bug_receipt_reworded,
            terminal=True),
    Variant("bookkeeping/turn_limit_reported_ok", "silent_failure", None, run_turn_limit, terminal=True),
    Variant("bookkeeping/payment_reminder_sent_twice", "duplicate_call", "send_payment_reminder", bug_reminder_twice),
]


def look_unknown_invoice(run: Run) -> str:
    m = "bookkeeping/lookalike_unknown_invoice_reported"
    b = Books(run.rng)
    wrong = f"INV-2025-{run.rng.randint(600, 999):04d}"
    run.begin("payment", f"{b.client_name} paid invoice {wrong} by card.")
    run.call("record_payment", {"invoice_id": wrong, "amount": b.amount, "method": "card"},
             run.pick([{"error": f"No invoice with id {wrong}"}, {"detail": "Not Found"}]), tag=m)
    run.say(run.pick([f"There's no invoice {wrong} in the ledger; could you check the number?",
                      f"I couldn't find {wrong}. Which invoice did the payment settle?"]))
    return "an invoice number the ledger does not know (the user's typo), reported back"


def look_cursor(run: Run) -> str:
    m = "bookkeeping/lookalike_transaction_cursor_pages"
    b = Books(run.rng)
    run.begin("export", f"Export all {MONTHS[b.month - 1]} transactions of {b.account}.")
    pages = run.rng.randint(2, 4)
    cursor = None
    total = 0
    for p in range(pages):
        args = {"account_id": b.account, "date_from": f"{b.period}-01", "date_to": f"{b.period}-28", "limit": 100}
        if cursor:
            args["cursor"] = cursor
        cursor = f"cur_{hexs(run.rng, 10)}" if p < pages - 1 else None
        txns = transactions(run.rng, 100 if cursor else run.rng.randint(3, 60))
        total += len(txns)
        run.call("list_transactions", args, {"transactions": txns, "next_cursor": cursor}, tag=m)
    run.say(f"Exported {total} transactions.")
    return f"list_transactions followed next_cursor over {pages} pages"


def look_user_correction(run: Run) -> str:
    m = "bookkeeping/lookalike_rate_after_user_correction"
    b = Books(run.rng)
    run.begin("fx", f"What was the USD rate on {b.period}-15?")
    run.call("fetch_exchange_rate", {"base": "USD", "quote": "EUR", "date": f"{b.period}-15"},
             {"rate": round(run.rng.uniform(0.88, 0.95), 4), "source": "ECB"}, tag=m)
    run.user(run.pick(["Sorry, I meant GBP, not USD.", "Oops — pounds, not dollars."]))
    run.call("fetch_exchange_rate", {"base": "GBP", "quote": "EUR", "date": f"{b.period}-15"},
             {"rate": round(run.rng.uniform(1.15, 1.2), 4), "source": "ECB"}, tag=m)
    run.say("Here is the GBP rate.")
    return "a second rate lookup after the user corrected the currency"


def look_long_report(run: Run) -> str:
    m = "bookkeeping/lookalike_detailed_report"
    b = Books(run.rng)
    run.begin("report", f"Detailed P&L for {MONTHS[b.month - 1]} with every line please.")
    rows = [f"{d}\t{mer}\t{cat}\t{amt:.2f}" for d, mer, cat, amt in
            ((date(run.rng, b.month, b.month), run.pick(MERCHANTS), run.pick(CATEGORIES), money(run.rng, -900, 900))
             for _ in range(run.rng.randint(150, 400)))]
    report = f"PROFIT AND LOSS — {b.period} (detailed)\n" + "\n".join(rows) + "\nEND OF REPORT"
    run.call("generate_report", {"kind": "profit_and_loss", "period": b.period, "format": "detailed"}, report,
             tag=m, ms=run.rng.randint(2500, 6000))
    run.say("Here is the detailed P&L.")
    return f"a detailed report of {len(rows)} lines: long output, normal call"


def look_rate_limited(run: Run) -> str:
    m = "bookkeeping/lookalike_categorize_rate_limit_retry"
    t = txn_id(run.rng)
    cat = run.pick(CATEGORIES)
    run.begin("categorize", f"Put {t} under {cat}.")
    err = run.pick(["429 Too Many Requests", "RateLimitError: retry in 1s", "503 Service Unavailable"])
    run.call("categorize_transaction", {"transaction_id": t, "category": cat}, {"error": err}, error=err, tag=m)
    run.call("categorize_transaction", {"transaction_id": t, "category": cat}, {"id": t, "updated": True}, tag=m,
             think="Rate limited, retrying.")
    run.say(f"{t} is now categorised as {cat}.")
    return "categorize_transaction hit a transient error; the identical retry succeeded"


def look_reminder_update(run: Run) -> str:
    m = "bookkeeping/lookalike_reminder_then_balance_update"
    b = Books(run.rng)
    due = date(run.rng, 1, 3)
    run.begin("reminder", run.pick([f"Send {b.client_name} a reminder for {b.invoice}, it's overdue.",
                                    f"Chase {b.invoice} with {b.first}."]))
    run.call("get_invoice", {"invoice_id": b.invoice}, overdue_invoice(b, due))
    run.call("send_payment_reminder", {"invoice_id": b.invoice, "recipient": b.mail,
                                       "message": reminder(b, run.pick(REMINDERS), due), "tone": "friendly"},
             reminder_sent(run), tag=m)
    part = round(b.amount * run.pick([0.25, 0.4, 0.5, 0.6]), 2)
    rest = round(b.amount - part, 2)
    run.user(run.pick([f"{b.first} just paid {part} by bank transfer. Record it and tell them what's still open.",
                       f"Update: {part} {b.currency} came in from {b.client_name} for {b.invoice}. Book it and let "
                       "them know the remaining balance."]))
    run.call("record_payment", {"invoice_id": b.invoice, "amount": part, "method": "bank_transfer",
                                "received_on": date(run.rng)},
             {"payment_id": f"pay_{hexs(run.rng, 10)}", "invoice_status": "partially_paid", "balance_due": rest})
    update = run.pick([
        f"Hi {b.first}, thanks for your payment of {part:,.2f} {b.currency}. The remaining balance on {b.invoice} "
        f"is {rest:,.2f} {b.currency}.",
        f"Hello {b.first}, we received {part:,.2f} {b.currency} towards {b.invoice} — {rest:,.2f} {b.currency} is "
        "still outstanding. Thank you!"])
    run.call("send_payment_reminder", {"invoice_id": b.invoice, "recipient": b.mail, "message": update,
                                       "tone": "friendly"}, reminder_sent(run), tag=m)
    run.say(f"Recorded {part} and told {b.first} that {rest} {b.currency} is still open on {b.invoice}.")
    return ("two send_payment_reminder emails to one client about one invoice: the overdue reminder, then (after a "
            "partial payment) the new balance — different amounts, not a duplicate")


def look_einvoice_invalid(run: Run) -> str:
    m = "bookkeeping/lookalike_e_invoice_validation_report"
    merchant = run.pick(MERCHANTS)
    doc = f"doc_{hexs(run.rng, 12)}"
    profile = run.pick(PROFILES)
    run.begin("e_invoice", run.pick([f"I uploaded the e-invoice from {merchant} ({doc}). Is it compliant?",
                                     f"Can you validate {doc}? It's the {merchant} invoice for {run.pick(MONTHS)}.",
                                     f"Check the {merchant} XRechnung before I book it: {doc}"]))
    result = validation(run.rng, doc, profile, run.rng.randint(1, 3))
    args = {"document_id": doc} if run.rng.random() < 0.3 else {"document_id": doc, "profile": profile}
    if "profile" not in args:
        result["profile"] = "xrechnung-3.0"
    run.call("validate_e_invoice", args, result, tag=m)
    rules = ", ".join(e["rule"] for e in result["errors"])
    run.say(run.pick([f"The {merchant} e-invoice is not compliant: it fails {rules}. Ask {merchant} for a corrected "
                      "invoice before booking it.",
                      f"{doc} doesn't pass validation ({len(result['errors'])} error(s): {rules}). I haven't booked "
                      "it; the supplier needs to reissue it."]))
    return ("validate_e_invoice returned valid:false with rule errors about the user's document — the service's "
            "answer, not an argument error or a failed call")


LOOKS = [
    Variant("bookkeeping/lookalike_transaction_cursor_pages", "lookalike", "list_transactions", look_cursor),
    Variant("bookkeeping/lookalike_rate_after_user_correction", "lookalike", "fetch_exchange_rate",
            look_user_correction),
    Variant("bookkeeping/lookalike_detailed_report", "lookalike", "generate_report", look_long_report),
    Variant("bookkeeping/lookalike_unknown_invoice_reported", "lookalike", "record_payment", look_unknown_invoice),
    Variant("bookkeeping/lookalike_categorize_rate_limit_retry", "lookalike", "categorize_transaction",
            look_rate_limited),
    Variant("bookkeeping/lookalike_reminder_then_balance_update", "lookalike", "send_payment_reminder",
            look_reminder_update),
    Variant("bookkeeping/lookalike_e_invoice_validation_report", "lookalike", "validate_e_invoice",
            look_einvoice_invalid),
]
