"""Travel-booking agent: flights, hotels, weather, payments, cancellations."""

from __future__ import annotations

from typing import Any

from tracemine.synth.catalog import (
    AgentSpec,
    ToolSpec,
    array,
    date,
    enum,
    integer,
    number,
    obj,
    pattern,
    string,
)
from tracemine.synth.data import AIRLINES, CITIES, HOTEL_NAMES, WEATHER, day, hexid, money, person, pick
from tracemine.synth.plan import TraceBuilder

FLIGHT_RE = r"^FL-[A-Z0-9]{6}$"
HOTEL_RE = r"^HTL-\d{5}$"
IATA_RE = r"^[A-Z]{3}$"
REF_RE = r"^[A-Z0-9]{6}$"
TOKEN_RE = r"^tok_[a-z0-9]{12}$"
CABINS = ("economy", "premium_economy", "business", "first")
ROOMS = ("single", "double", "suite")
_ALNUM = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def _code(b: TraceBuilder, n: int = 6) -> str:
    rng = b.rng
    return "".join(_ALNUM[rng.randrange(len(_ALNUM))] for _ in range(n))


def _search_flights(b: TraceBuilder, a: dict[str, Any]) -> Any:
    rng = b.rng
    base = {"economy": 1, "premium_economy": 1.7, "business": 3.8, "first": 6.5}[a.get("cabin", "economy")]
    flights = []
    for _ in range(rng.randint(2, 4)):
        code, airline = pick(rng, AIRLINES)
        dep_h = rng.randint(6, 22)
        flights.append({
            "flight_id": f"FL-{_code(b)}", "airline": airline, "flight_number": f"{code}{rng.randint(10, 2999)}",
            "departure": f"{a['departure_date']}T{dep_h:02d}:{rng.choice((0, 15, 30, 45)):02d}:00",
            "duration_minutes": rng.randint(70, 800), "stops": rng.choice((0, 0, 1, 1, 2)),
            "price": round(money(rng, 90, 900) * base, 2), "currency": "USD",
        })
    return {"flights": flights, "passengers": a.get("passengers", 1)}


def _search_hotels(b: TraceBuilder, a: dict[str, Any]) -> Any:
    rng = b.rng
    hi = a.get("max_price", 450)
    return {"hotels": [
        {"hotel_id": f"HTL-{rng.randint(10000, 99999)}", "name": pick(rng, HOTEL_NAMES), "stars": rng.randint(2, 5),
         "price_per_night": money(rng, 60, max(61, hi)), "rating": round(rng.uniform(6.8, 9.6), 1)}
        for _ in range(rng.randint(2, 5))
    ], "city": a["city"]}


def _check_availability(b: TraceBuilder, a: dict[str, Any]) -> Any:
    rng = b.rng
    avail = rng.random() < 0.7
    return {"hotel_id": a["hotel_id"], "room_type": a["room_type"], "available": avail,
            "rooms_left": rng.randint(1, 6) if avail else 0, "rate": money(rng, 70, 420), "currency": "USD"}


def _get_weather(b: TraceBuilder, a: dict[str, Any]) -> Any:
    rng = b.rng
    high = rng.randint(-2, 33)
    return {"city": a["city"], "date": a["date"], "forecast": pick(rng, WEATHER), "high_c": high,
            "low_c": high - rng.randint(3, 11), "precipitation_mm": round(rng.random() * 12, 1)}


def _get_booking(b: TraceBuilder, a: dict[str, Any]) -> Any:
    rng = b.rng
    return {"booking_ref": a["booking_ref"], "type": pick(rng, ("flight", "hotel")), "status": "confirmed",
            "travel_date": day(b.today + rng.randint(3, 60)), "total": money(rng, 120, 2400), "currency": "USD"}


def _book_flight(b: TraceBuilder, a: dict[str, Any]) -> Any:
    rng = b.rng
    return {"booking_ref": _code(b), "status": "confirmed", "flight_id": a["flight_id"],
            "ticket_numbers": [f"{rng.randint(100, 999)}-{rng.randint(10**9, 10**10 - 1)}" for _ in a["passengers"]]}


def _book_hotel(b: TraceBuilder, a: dict[str, Any]) -> Any:
    return {"booking_ref": _code(b), "status": "confirmed", "hotel_id": a["hotel_id"],
            "confirmation_code": f"HC{b.rng.randint(1000000, 9999999)}"}


def _cancel_booking(b: TraceBuilder, a: dict[str, Any]) -> Any:
    return {"booking_ref": a["booking_ref"], "status": "cancellation_pending", "refund_amount": money(b.rng, 50, 900)}


def _charge_card(b: TraceBuilder, a: dict[str, Any]) -> Any:
    return {"charge_id": f"ch_{hexid(b.rng, 24)}", "status": "succeeded", "amount": a["amount"],
            "currency": a["currency"]}


TOOLS = {
    t.name: t
    for t in (
        ToolSpec(
            "search_flights", "Search flights between two airports on a date.",
            obj(["origin", "destination", "departure_date", "passengers"],
                origin=pattern("Origin IATA code", IATA_RE), destination=pattern("Destination IATA code", IATA_RE),
                departure_date=date("Departure date (YYYY-MM-DD)"), return_date=date("Return date (YYYY-MM-DD)"),
                passengers=integer("Number of passengers", 1, 9), cabin=enum("Cabin class", *CABINS)),
            _search_flights, latency_ms=650, empty={"flights": [], "passengers": 1}, empty_rate=0.1,
            http=("GET", "https://gds.example.net/v1/flights/search"), intro="Searching for flights.",
        ),
        ToolSpec(
            "search_hotels", "Search hotels in a city for given dates.",
            obj(["city", "check_in", "check_out", "guests"], city=string("City name", minLength=2),
                check_in=date("Check-in date"), check_out=date("Check-out date"),
                guests=integer("Number of guests", 1, 8), max_price=number("Max price per night (USD)", 20, 5000)),
            _search_hotels, latency_ms=700, empty={"hotels": []}, empty_rate=0.06,
            http=("GET", "https://hotels.example.net/api/search"), intro="Looking for hotels.",
        ),
        ToolSpec(
            "check_availability", "Check room availability and rate at a hotel.",
            obj(["hotel_id", "check_in", "check_out", "room_type"], hotel_id=pattern("Hotel id", HOTEL_RE),
                check_in=date("Check-in date"), check_out=date("Check-out date"), room_type=enum("Room type", *ROOMS)),
            _check_availability, latency_ms=350, intro="Checking availability.",
        ),
        ToolSpec(
            "get_weather", "Weather forecast for a city on a date.",
            obj(["city", "date"], city=string("City name", minLength=2), date=date("Date (YYYY-MM-DD)")),
            _get_weather, latency_ms=120, http=("GET", "https://api.weather.example.com/forecast"),
            intro="Let me check the forecast.",
        ),
        ToolSpec(
            "get_booking", "Get a booking and its current status.",
            obj(["booking_ref"], booking_ref=pattern("6-character booking reference", REF_RE)),
            _get_booking, latency_ms=140, poll=True, intro="Checking the booking status.",
        ),
        ToolSpec(
            "book_flight", "Book a flight for the given passengers.",
            obj(["flight_id", "passengers", "payment_token"], flight_id=pattern("Flight id", FLIGHT_RE),
                passengers=array("Passengers", obj(["first_name", "last_name", "date_of_birth"],
                                                  first_name=string("First name"), last_name=string("Last name"),
                                                  date_of_birth=date("Date of birth")), 1, 9),
                payment_token=pattern("Tokenised card", TOKEN_RE)),
            _book_flight, write=True, latency_ms=800, http=("POST", "https://gds.example.net/v1/bookings"),
            intro="Booking the flight.",
        ),
        ToolSpec(
            "book_hotel", "Reserve a hotel room.",
            obj(["hotel_id", "check_in", "check_out", "room_type", "guest_name"], hotel_id=pattern("Hotel id", HOTEL_RE),
                check_in=date("Check-in date"), check_out=date("Check-out date"), room_type=enum("Room type", *ROOMS),
                guest_name=string("Lead guest full name", minLength=3)),
            _book_hotel, write=True, latency_ms=800, intro="Reserving the room.",
        ),
        ToolSpec(
            "cancel_booking", "Cancel a flight or hotel booking.",
            obj(["booking_ref"], booking_ref=pattern("Booking reference", REF_RE),
                reason=enum("Reason", "change_of_plans", "illness", "schedule_change", "other")),
            _cancel_booking, write=True, latency_ms=600, intro="Cancelling the booking.",
        ),
        ToolSpec(
            "charge_card", "Charge a tokenised payment card.",
            obj(["payment_token", "amount", "currency"], payment_token=pattern("Tokenised card", TOKEN_RE),
                amount=number("Amount", 0.5, 20000), currency=enum("Currency", "USD", "EUR", "GBP", "JPY", "CAD"),
                description=string("Statement description", maxLength=80)),
            _charge_card, write=True, latency_ms=650, http=("POST", "https://payments.example.com/v1/charges"),
            intro="Charging your card.",
        ),
    )
}


def _route(b: TraceBuilder) -> tuple[tuple[str, str, str], tuple[str, str, str]]:
    rng = b.rng
    a = pick(rng, CITIES)
    c = pick(rng, CITIES)
    while c is a:
        c = pick(rng, CITIES)
    return a, c


def book_flight(b: TraceBuilder) -> None:
    rng = b.rng
    (ocity, o, _), (dcity, d, _) = _route(b)
    dep = b.today + rng.randint(5, 90)
    pax = rng.choice((1, 1, 1, 2, 2, 3))
    cabin = pick(rng, ("economy", "economy", "premium_economy", "business"))
    who = "me" if pax == 1 else f"{pax} people"
    article = "an" if cabin[0] in "aeiou" else "a"
    b.user_text = f"Book {article} {cabin.replace('_', ' ')} class flight from {ocity} to {dcity} on {day(dep)} for {who}."
    args: dict[str, Any] = {"origin": o, "destination": d, "departure_date": day(dep), "passengers": pax, "cabin": cabin}
    res = b.call("search_flights", args)
    if not res["flights"]:  # a legitimately empty search, then a different date
        dep += 1
        res = b.call("search_flights", {**args, "departure_date": day(dep)})
        if not res["flights"]:
            b.finish(f"There are no {cabin} flights from {o} to {d} around {day(dep)}. Would other dates work?")
            return
    f = min(res["flights"], key=lambda x: x["price"])
    people = []
    for _ in range(pax):
        first, last = person(rng)
        people.append({"first_name": first, "last_name": last, "date_of_birth": day(b.today - rng.randint(7000, 25000))})
    token = f"tok_{hexid(rng, 12)}"
    bk = b.call("book_flight", {"flight_id": f["flight_id"], "passengers": people, "payment_token": token})
    total = round(f["price"] * pax, 2)
    b.call("charge_card", {"payment_token": token, "amount": total, "currency": "USD",
                           "description": f"{f['airline']} {f['flight_number']}"})
    b.finish(f"You're booked on {f['airline']} {f['flight_number']} on {day(dep)} ({bk['booking_ref']}). "
             f"I charged {total:.2f} USD to your card.")


def book_hotel(b: TraceBuilder) -> None:
    rng = b.rng
    city = pick(rng, CITIES)[0]
    cin = b.today + rng.randint(3, 60)
    nights = rng.randint(1, 6)
    guests = rng.randint(1, 3)
    first, last = person(rng)
    b.user_text = f"I need a hotel in {city} from {day(cin)} for {nights} nights, {guests} guests."
    args: dict[str, Any] = {"city": city, "check_in": day(cin), "check_out": day(cin + nights), "guests": guests}
    if rng.random() < 0.5:
        args["max_price"] = rng.choice((150, 200, 250, 300))
    res = b.call("search_hotels", args)
    if not res["hotels"]:
        b.finish(f"I couldn't find hotels in {city} for those dates within your budget.")
        return
    room = "double" if guests > 1 else pick(rng, ROOMS[:2])
    chosen = None
    for h in res["hotels"][:3]:  # several lookups with different hotel ids
        av = b.call("check_availability", {"hotel_id": h["hotel_id"], "check_in": day(cin),
                                           "check_out": day(cin + nights), "room_type": room})
        if av["available"]:
            chosen = (h, av)
            break
    if chosen is None:
        b.finish(f"None of the top hotels in {city} has a {room} room free for those dates.")
        return
    if rng.random() < 0.4:
        b.call("get_weather", {"city": city, "date": day(cin)})
    h, av = chosen
    bk = b.call("book_hotel", {"hotel_id": h["hotel_id"], "check_in": day(cin), "check_out": day(cin + nights),
                               "room_type": room, "guest_name": f"{first} {last}"})
    total = round(av["rate"] * nights, 2)
    b.call("charge_card", {"payment_token": f"tok_{hexid(rng, 12)}", "amount": total, "currency": "USD",
                           "description": h["name"]})
    b.finish(f"Booked {h['name']} in {city}, {nights} nights from {day(cin)} (ref {bk['booking_ref']}); total {total:.2f} USD.")


def plan_trip(b: TraceBuilder) -> None:
    rng = b.rng
    (ocity, o, _), (dcity, d, _) = _route(b)
    start = b.today + rng.randint(7, 120)
    b.user_text = f"I'm thinking about visiting {dcity} from {ocity} around {day(start)}. What would it look like?"
    for k in range(rng.randint(1, 3)):  # same tool, different dates
        b.call("get_weather", {"city": dcity, "date": day(start + 2 * k)})
    fl = b.call("search_flights", {"origin": o, "destination": d, "departure_date": day(start), "passengers": 1})
    ho = b.call("search_hotels", {"city": dcity, "check_in": day(start), "check_out": day(start + 4), "guests": 1})
    price = min((f["price"] for f in fl["flights"]), default=None)
    hotel = ho["hotels"][0]["name"] if ho["hotels"] else "no hotel matches"
    b.finish(f"Flights from {o} start at {price} USD; for hotels, {hotel}. Want me to book anything?"
             if price is not None else f"I found no flights {o}→{d} that day; hotels: {hotel}.")


def cancel(b: TraceBuilder) -> None:
    rng = b.rng
    ref = _code(b)
    b.user_text = f"Please cancel my booking {ref}, my plans changed."
    bk = b.call("get_booking", {"booking_ref": ref})
    c = b.call("cancel_booking", {"booking_ref": ref, "reason": pick(rng, ("change_of_plans", "illness", "other"))})
    # a poll loop whose result changes each time (hard negative for loop/duplicate detectors)
    steps = (("cancellation_pending", "initiated"), ("cancellation_pending", "processing"), ("cancelled", "issued"))
    for status, refund in steps[3 - rng.randint(2, 3):]:
        b.call("get_booking", {"booking_ref": ref},
               result={**bk, "status": status, "refund_status": refund, "refund_amount": c["refund_amount"]})
    b.finish(f"Booking {ref} is cancelled; {c['refund_amount']:.2f} USD will be refunded to your card.")


AGENT = AgentSpec(
    name="travel-agent",
    service="travel-booking",
    domain="travel booking",
    models=("gpt-4.1", "claude-sonnet-4-5", "gpt-4o"),
    tools=TOOLS,
    workflows=((0.35, book_flight), (0.3, book_hotel), (0.2, plan_trip), (0.15, cancel)),
    fake_tools=("find_flights", "reserve_hotel", "get_flight_status", "payment_charge", "lookup_booking"),
    system_tokens=1400,
    ok_status=0,
)
