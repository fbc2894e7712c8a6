import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "madoguchi.settings")
application = get_wsgi_application()

# Production without `madoguchi collectstatic` would answer 500 to every page: refuse to start.
from madoguchi.core.checks import require_collected_static  # noqa: E402

require_collected_static()
