from storages_base.testing import setup_django

setup_django()
