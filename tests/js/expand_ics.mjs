// Reads an iCalendar feed on stdin as ical.js (Thunderbird's engine) does and prints every
// session it expands to: [{uid, start, end}] in UTC (no DTEND: it ends as it starts).
import { readFileSync } from "node:fs";
import ICAL from "ical.js";

const root = new ICAL.Component(ICAL.parse(readFileSync(0, "utf8")));
const sessions = [];
for (const component of root.getAllSubcomponents("vevent")) {
  const event = new ICAL.Event(component);
  const add = (start, end) =>
    sessions.push({
      uid: event.uid,
      start: start.toJSDate().toISOString(),
      end: end.toJSDate().toISOString(),
    });
  if (!event.isRecurring()) {
    add(event.startDate, event.endDate);
    continue;
  }
  const iterator = event.iterator();
  for (let next = iterator.next(); next; next = iterator.next()) {
    const details = event.getOccurrenceDetails(next);
    add(details.startDate, details.endDate);
    if (sessions.length > 200000) throw new Error("a rule that never ends");
  }
}
process.stdout.write(JSON.stringify(sessions));
