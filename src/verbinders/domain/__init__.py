"""The domain: aggregates and the values they keep. Pure Python, no I/O.

- `platform.Platform`: a tenant's platform, its vocabularies and point of contact;
- `organisations.Organisation`: profile, strengths (`strengths`), contact persons (`contacts`);
- `indexes.UniqueIndex`: uniqueness of organisation names and KvK numbers per platform;
- `membership.Membership`: an organisation's membership of the platform;
- `meetings.Meeting`: platform meetings with attendance, decisions and minutes.
"""
