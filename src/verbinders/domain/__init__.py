"""The domain: aggregates and the values they keep. Pure Python, no I/O.

- `platform.Platform`: a tenant's platform, its vocabularies and point of contact;
- `organisations.Organisation`: profile, strengths (`strengths`), contact persons (`contacts`);
- `indexes.UniqueIndex`: uniqueness of organisation names and KvK numbers per platform;
- `membership.Membership`: an organisation's membership of the platform;
- `meetings.Meeting`: platform meetings with attendance, decisions and minutes;
- `activities.Activity`: an organisation's activity with partners (`activity_details`), when
  it takes place (`schedule`);
- `hours.HoursEntry`: volunteer hours given, corrected but never edited;
- `overlap_cases.OverlapCase`: two activities that may overlap, and how that ended;
- `overlap.score`: how much two activities overlap and why (`lexicon`, `target_groups`).
"""
